export async function loginServerReadiness(context) {
    try {
        await context.store.ping();
        return { ready: true };
    }
    catch (error) {
        return { ready: false, reason: `database does not answer: ${error.message}` };
    }
}
//# sourceMappingURL=readiness.js.map