// The tests import the packages' sources, which read the schemas and validators of their own
// package (packages/*/schemas/, generated from schemas/): generated here first, so that what the
// tests see follows a change to schemas/ without a build.
import { buildSchemas } from '../../scripts/build-schemas.mjs';

export default function setup() {
  buildSchemas();
}
