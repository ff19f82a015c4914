// Issue 15 [A], items 3, 4, 7 and 9: credentials, command agents' environment, sub-flow paths, sizes (README.md).
import { describeCorpus } from './harness.js';
import { credentialCases } from './corpus/credentials.js';
import { pathCases } from './corpus/paths.js';
import { sizeCases } from './corpus/sizes.js';

describeCorpus('credentials and environment', credentialCases);
describeCorpus('sub-flow paths', pathCases);
describeCorpus('sizes and depth', sizeCases);
