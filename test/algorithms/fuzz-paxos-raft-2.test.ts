// CI's fuzz budget of single-decree Paxos and Raft, seeds 101..200 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'single-paxos': 100, raft: 100 }, 101);
