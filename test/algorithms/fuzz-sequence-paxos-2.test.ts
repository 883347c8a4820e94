// CI's fuzz budget of sequence Paxos, seeds 101..200 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'sequence-paxos': 100 }, 101);
