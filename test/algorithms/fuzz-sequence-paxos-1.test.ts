// CI's fuzz budget of sequence Paxos, seeds 1..100 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'sequence-paxos': 100 });
