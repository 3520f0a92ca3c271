// What the local API's routes share: the typed refusal (`{ error: { code, message } }` with a 4xx)
// and the schema of a user name in a body or a query.
export class LocalApiError extends Error {
    status;
    code;
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}
export const USER = { type: 'string', minLength: 1, maxLength: 64 };
//# sourceMappingURL=api-error.js.map