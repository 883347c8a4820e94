// CI's fuzz budget of leader election, seeds 101..200 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'leader-election': 100 }, 101);
