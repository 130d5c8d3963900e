/*
 * The RainMaker REST calls the approval client makes (docs/protocol.md §9.1), against the local cloud or the
 * real one: a base URL (…/v1/) and an access token sent as `Authorization: <token>`.
 */

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
export type JsonObject = {[key: string]: Json};

export interface OtaStatusResponse {
	node_id: string;
	status: string;
	additional_info: string;
	timestamp: number;
}

/** A failed call: the HTTP status (0 when the server could not be reached) and the cloud's description. */
export class RainMakerApiError extends Error {
	constructor(readonly httpStatus: number, readonly description: string, readonly method: string, readonly path: string) {
		super(`${method} ${path}: ${httpStatus === 0 ? "" : `HTTP ${httpStatus}: `}${description}`);
		this.name = "RainMakerApiError";
	}
}

export interface RainMakerApiOptions {
	/** e.g. http://127.0.0.1:8080/v1/ or https://api.rainmaker.espressif.com/v1/ */
	baseUrl: string;
	accessToken?: string;
	/** Per request. Default 10 s. */
	timeoutMs?: number;
}

function isJsonObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class RainMakerApi {
	readonly baseUrl: string;
	readonly #token: string | undefined;
	readonly #timeoutMs: number;

	constructor(options: RainMakerApiOptions) {
		this.baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
		this.#token = options.accessToken;
		this.#timeoutMs = options.timeoutMs ?? 10_000;
	}

	/** `GET user/nodes/config?node_id=` → the node config (docs/protocol.md §6.4). */
	async getConfig(nodeId: string): Promise<JsonObject> {
		return this.#object(await this.#call("GET", "user/nodes/config", {node_id: nodeId}), "GET user/nodes/config");
	}

	/** `GET user/nodes/params?node_id=` → `{"<device>":{"<param>":value}}`. */
	async getParams(nodeId: string): Promise<JsonObject> {
		return this.#object(await this.#call("GET", "user/nodes/params", {node_id: nodeId}), "GET user/nodes/params");
	}

	/** `PUT user/nodes/params` in the current array form; throws when the node's entry is not a success. */
	async setParams(nodeId: string, payload: JsonObject): Promise<void> {
		const path = "user/nodes/params";
		const answer = await this.#call("PUT", path, {}, [{node_id: nodeId, payload}]);
		const entry = Array.isArray(answer) ? answer.find((item) => isJsonObject(item) && item.node_id === nodeId) ?? answer[0] : answer;
		if (!isJsonObject(entry) || entry.status !== "success") {
			const description = isJsonObject(entry) && typeof entry.description === "string" ? entry.description : `unexpected answer ${JSON.stringify(answer)}`;
			throw new RainMakerApiError(200, description, "PUT", path);
		}
	}

	/** `GET user/nodes/ota_status?node_id=&ota_job_id=` → the latest status the node reported for the job. */
	async getOtaStatus(nodeId: string, jobId: string): Promise<OtaStatusResponse> {
		const path = "user/nodes/ota_status";
		const answer = this.#object(await this.#call("GET", path, {node_id: nodeId, ota_job_id: jobId}), `GET ${path}`);
		if (typeof answer.status !== "string")
			throw new RainMakerApiError(200, `answer has no status: ${JSON.stringify(answer)}`, "GET", path);
		return {
			node_id: typeof answer.node_id === "string" ? answer.node_id : nodeId,
			status: answer.status,
			additional_info: typeof answer.additional_info === "string" ? answer.additional_info : "",
			timestamp: typeof answer.timestamp === "number" ? answer.timestamp : 0,
		};
	}

	#object(value: Json, what: string): JsonObject {
		if (!isJsonObject(value))
			throw new RainMakerApiError(200, `expected a JSON object, got ${JSON.stringify(value)}`, ...(what.split(" ", 2) as [string, string]));
		return value;
	}

	async #call(method: string, path: string, query: Record<string, string>, body?: Json): Promise<Json> {
		const url = new URL(path, this.baseUrl);
		for (const [key, value] of Object.entries(query))
			url.searchParams.set(key, value);
		const headers: Record<string, string> = {Accept: "application/json"};
		if (this.#token !== undefined)
			headers.Authorization = this.#token;
		if (body !== undefined)
			headers["Content-Type"] = "application/json";
		let response: Response | undefined;
		// A GET is retried once on a fresh connection: a kept-alive connection may have been closed by
		// the server in the meantime (a restarted cloud), which is no answer about the server.
		for (let attempt = 1; !response; attempt++) {
			try {
				response = await fetch(url, {method, headers, ...(body !== undefined ? {body: JSON.stringify(body)} : {}), signal: AbortSignal.timeout(this.#timeoutMs)});
			} catch (error) {
				const cause = (error as {cause?: {code?: string; message?: string}}).cause;
				const code = cause?.code ?? cause?.message ?? (error as Error).message;
				if (method === "GET" && attempt === 1 && (code === "UND_ERR_SOCKET" || code === "ECONNRESET"))
					continue;
				throw new RainMakerApiError(0, `cannot reach ${this.baseUrl}: ${code}`, method, path);
			}
		}
		const text = await response.text();
		let value: Json;
		try {
			value = JSON.parse(text) as Json;
		} catch {
			throw new RainMakerApiError(response.status, `answer is not JSON: ${text.slice(0, 200)}`, method, path);
		}
		if (!response.ok) {
			const description = isJsonObject(value) && typeof value.description === "string" ? value.description : text.slice(0, 200);
			throw new RainMakerApiError(response.status, description, method, path);
		}
		return value;
	}
}
