// Schema refusals in words a user reads. The login server and this API check bodies with JSON
// Schema and word a failure as the validator does ("body /password must NOT have fewer than 8
// characters"); the app shows the API's message as it is, so the daemon rewords the refusals a
// person can cause by typing (a field's length or its characters) for the fields it knows, and
// leaves any other message as it came.
/** What a user calls each field they fill in. */
const FIELD_NAMES = {
    password: 'password',
    username: 'user name',
    displayName: 'display name',
    to: 'user name',
    user: 'user name',
    text: 'message',
    message: 'message',
    q: 'search',
};
/** Ajv's words for a length or a character refusal of one field of a body, query or path. */
const SCHEMA_REFUSAL = /^(?:body|querystring|params) \/(\w+) must (?:NOT have (fewer|more) than (\d+) characters|match pattern .*)$/;
/** The refusal in plain words, or null when it is not one a user causes by typing in a field we know. */
export function readableSchemaRefusal(message) {
    const match = SCHEMA_REFUSAL.exec(message.trim());
    const field = match ? FIELD_NAMES[match[1]] : undefined;
    if (!match || !field)
        return null;
    const [, , bound, count] = match;
    if (bound === undefined)
        return `the ${field} has characters it may not have`;
    const n = Number(count);
    if (bound === 'fewer')
        return n <= 1 ? `the ${field} may not be empty` : `the ${field} needs at least ${n} characters`;
    return `the ${field} may have at most ${n} characters`;
}
//# sourceMappingURL=readable-refusal.js.map