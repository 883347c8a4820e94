import t from 'tap';
import { sameConfigurations, sameShortestBug } from '../helpers/bfs-reduction-cases.ts';

// Dead messages out of the Paxos model's network, without loss: nothing the ranks can reach is lost.
sameConfigurations(t, 0);
sameShortestBug(t, 0);
