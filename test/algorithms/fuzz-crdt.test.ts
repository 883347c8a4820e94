// CI's fuzz budget of the CRDTs under anti-entropy (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ gcounter: 200, 'lww-map': 200 });
