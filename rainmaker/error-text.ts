/* The one error-to-text helper of the core and its adapters. */

/** The message of a thrown value, for logs and reports. */
export function errorText(error: unknown): string {
	if (error instanceof Error) return error.message || error.name;
	return String(error);
}
