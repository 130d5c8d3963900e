/*
 * JSON over HTTP for the local cloud's REST API: the error type every handler throws, body reading
 * with a size limit, and typed accessors that turn wrong input into a 400 with a text a client can
 * act on, in the RainMaker error shape `{"status":"failure","description":...,"error_code":...}`.
 */
import type {IncomingMessage, ServerResponse} from "node:http";
import {jsonDepth} from "./json-shape";

/** Deepest REST request body: deep enough for every API, shallow enough for every recursive walk. */
export const REST_BODY_MAX_DEPTH = 32;

/**
 * The `error_code` numbers of the local cloud. The real cloud's codes are not published as a
 * table; clients branch on the HTTP status and show the description, so these only need to be
 * stable and distinct (docs/local-cloud.md, "Errors").
 */
export const ErrorCode = {
	badRequest: 100000,
	badCredentials: 100001,
	badToken: 100002,
	unauthorized: 100003,
	forbidden: 100004,
	notFound: 100005,
	methodNotAllowed: 100006,
	tooLarge: 100007,
	nodeOffline: 100008,
	tooManyRequests: 100009,
	internal: 100500,
} as const;

function codeFor(httpStatus: number): number {
	switch (httpStatus) {
		case 401:
			return ErrorCode.unauthorized;
		case 403:
			return ErrorCode.forbidden;
		case 404:
			return ErrorCode.notFound;
		case 405:
			return ErrorCode.methodNotAllowed;
		case 413:
			return ErrorCode.tooLarge;
		case 429:
			return ErrorCode.tooManyRequests;
		default:
			return httpStatus >= 500 ? ErrorCode.internal : ErrorCode.badRequest;
	}
}

/** The cloud's error answer to a request (a client's failed call is host/client/api-error.ts RainMakerApiError). */
export class ApiError extends Error {
	readonly errorCode: number;

	constructor(
		readonly httpStatus: number,
		description: string,
		errorCode?: number,
		readonly headers: Record<string, string> = {},
	) {
		super(description);
		this.errorCode = errorCode ?? codeFor(httpStatus);
	}
}

export function sendJson(
	response: ServerResponse,
	httpStatus: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const text = JSON.stringify(body);
	response.writeHead(httpStatus, {
		"Content-Type": "application/json",
		"Content-Length": String(Buffer.byteLength(text)),
		...headers,
	});
	response.end(text);
}

export function sendFailure(response: ServerResponse, error: ApiError): void {
	sendJson(
		response,
		error.httpStatus,
		{status: "failure", description: error.message, error_code: error.errorCode},
		error.headers,
	);
}

/** Reads the whole body; a body over `limit` bytes is refused with 413 as soon as it passes the limit. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const declared = Number(request.headers["content-length"]);
		if (Number.isFinite(declared) && declared > limit) {
			reject(new ApiError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
			return;
		}
		const chunks: Buffer[] = [];
		let size = 0;
		let refused = false;
		request.on("data", (chunk: Buffer) => {
			if (refused) return;
			size += chunk.length;
			if (size > limit) {
				refused = true;
				chunks.length = 0;
				reject(new ApiError(413, `request body exceeds the limit of ${limit} bytes`));
				return;
			}
			chunks.push(chunk);
		});
		request.on("end", () => {
			if (!refused) resolve(Buffer.concat(chunks));
		});
		request.on("error", error => {
			if (!refused) reject(new ApiError(400, `request body could not be read: ${error.message}`));
		});
		// A client that goes away mid-body: settle (nobody reads the answer) instead of hanging.
		request.on("close", () => {
			if (!refused && !request.complete)
				reject(new ApiError(400, "request body incomplete: the connection closed"));
		});
	});
}

export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
	const body = await readBody(request, limit);
	if (body.length === 0) throw new ApiError(400, "request body is empty; a JSON body is required");
	const text = body.toString("utf8");
	const depth = jsonDepth(text);
	if (depth > REST_BODY_MAX_DEPTH)
		throw new ApiError(400, `request body nests ${depth} levels, more than the limit of ${REST_BODY_MAX_DEPTH}`);
	try {
		return JSON.parse(text);
	} catch (error) {
		throw new ApiError(400, `request body is not valid JSON: ${(error as Error).message}`);
	}
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, what: string): JsonObject {
	if (!isObject(value)) throw new ApiError(400, `${what} must be a JSON object`);
	return value;
}

export function requiredString(object: JsonObject, key: string, what = "body"): string {
	const value = object[key];
	if (typeof value !== "string" || value === "")
		throw new ApiError(400, `${what}: "${key}" must be a non-empty string`);
	return value;
}

export function optionalString(object: JsonObject, key: string, what = "body"): string | undefined {
	const value = object[key];
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "string" || value === "")
		throw new ApiError(400, `${what}: "${key}" must be a non-empty string when given`);
	return value;
}

/** A required query parameter; `aliases` are accepted too (the CLI sends `nodeid`, the app SDK `node_id`). */
export function requiredQuery(query: URLSearchParams, key: string, ...aliases: string[]): string {
	for (const name of [key, ...aliases]) {
		const value = query.get(name);
		if (value !== null && value !== "") return value;
	}
	throw new ApiError(400, `query parameter "${key}" is required`);
}

/** A boolean query parameter: absent → `fallback`; "true"/"false" (any case), "1"/"0"; anything else → 400. */
export function booleanQuery(query: URLSearchParams, key: string, fallback: boolean): boolean {
	const value = query.get(key);
	if (value === null || value === "") return fallback;
	switch (value.toLowerCase()) {
		case "true":
		case "1":
			return true;
		case "false":
		case "0":
			return false;
		default:
			throw new ApiError(400, `query parameter "${key}" must be true or false, not ${JSON.stringify(value)}`);
	}
}
