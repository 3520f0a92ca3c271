// Whether this login server can serve: it can when its database answers a trivial query (all
// its state is there). A replica whose database is down says so, and a load balancer or an
// orchestrator sends its users to the others.
import type { ServerContext } from './context.js';
import type { Readiness } from '../ops/ops-server.js';

export async function loginServerReadiness(context: Pick<ServerContext, 'store'>): Promise<Readiness> {
  try {
    await context.store.ping();
    return { ready: true };
  } catch (error) {
    return { ready: false, reason: `database does not answer: ${(error as Error).message}` };
  }
}
