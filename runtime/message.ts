/** A received message: who sent it (rank in the communicator), its tag, and the payload. */
export interface Message<T = unknown> {
  source: number;
  tag: number;
  data: T;
}
