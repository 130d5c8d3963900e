/*
 * A failed call of the RainMaker REST API, as a client sees it: the approval client (host/client/)
 * and the web page (host/web/app/, bundled for the browser, so this module imports nothing) throw
 * the same error. The cloud's own error answer is a different thing: host/cloud/http-json.ts ApiError.
 */

/** A failed call: the HTTP status (0 when the server could not be reached) and the cloud's description. */
export class RainMakerApiError extends Error {
	constructor(
		readonly httpStatus: number,
		readonly description: string,
		readonly method: string,
		readonly path: string,
	) {
		super(`${method} ${path}: ${httpStatus === 0 ? "" : `HTTP ${httpStatus}: `}${description}`);
		this.name = "RainMakerApiError";
	}
}
