/**
 * Loaded with `--import` into every process the pack starts. The pack spawns its children with
 * an IPC channel; when the gantry process that started them goes away — a normal end, an error,
 * Ctrl-C, or even SIGKILL — the channel closes and the child exits too. So no service, proxy or
 * load driver outlives the run that started it.
 */
if (process.channel) {
  process.on('disconnect', () => process.exit(0));
  // The channel alone must not keep the child alive: its own server does that.
  process.channel.unref();
}
export {};
