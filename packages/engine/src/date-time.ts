/** An ISO 8601 date-time whose fields exist: Date.parse would turn 30 February into 2 March. */
export function isRealDateTime(text: string): boolean {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null || Number.isNaN(Date.parse(text))) return false;
  const [year, month, day, hour, minute] = text.slice(0, 16).split(/[-T:]/).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour <= 23 && minute <= 59;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
