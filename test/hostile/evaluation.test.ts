// Issue 15 [A], items 1, 2 and 10: regexes and expressions that would freeze or kill the process (README.md).
import { describeCorpus } from './harness.js';
import { expressionCases } from './corpus/expressions.js';
import { regexCases } from './corpus/regex.js';

describeCorpus('regular expressions', regexCases);
describeCorpus('expressions', expressionCases);
