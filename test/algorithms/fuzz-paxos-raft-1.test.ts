// CI's fuzz budget of single-decree Paxos and Raft, seeds 1..100 (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({ 'single-paxos': 100, raft: 100 });
