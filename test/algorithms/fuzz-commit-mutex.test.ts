// CI's fuzz budget of the commit protocols and the mutual-exclusion ports (fuzz-budget.ts).
import { fuzzBudget } from './fuzz-budget.ts';

fuzzBudget({
  'two-phase-commit': 300,
  'three-phase-commit': 300,
  'central-mutex': 200,
  'token-ring': 200,
  'ricart-agrawala': 200,
  maekawa: 200,
});
