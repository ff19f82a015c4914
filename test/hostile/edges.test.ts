// Issue 15 [A], items 1, 2, 5, 6, 8, 9 and 10 around the processes: the HTTP edge, identities and
// run ids, crash loops and restarts, the store (README.md).
import { describeCorpus } from './harness.js';
import { httpCases } from './corpus/http.js';
import { identityCases } from './corpus/identities.js';
import { restartCases } from './corpus/restarts.js';
import { storeCases } from './corpus/store.js';

describeCorpus('the HTTP edge', httpCases);
describeCorpus('identities and run ids', identityCases);
describeCorpus('crashes and restarts', restartCases);
describeCorpus('the store and validation', storeCases);
