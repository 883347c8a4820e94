// CI's fuzz budget of leader election, seeds 1..100 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'leader-election': 100 });
