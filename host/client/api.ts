/*
 * The RainMaker REST calls the approval client makes (docs/protocol.md §9.1), against the local cloud or the
 * real one: a base URL (…/v1/) and an access token sent as `Authorization: <token>`, from a fixed
 * token or from a login session (session.ts) that renews it with the refresh token.
 */

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
export type JsonObject = {[key: string]: Json};

export interface OtaStatusResponse {
	node_id: string;
	status: string;
	additional_info: string;
	timestamp: number;
}

import {RainMakerApiError} from "./api-error";

export {RainMakerApiError};

/** Where the access token comes from: a login session renews it (and may be asked to after a 401). */
export interface TokenSource {
	accessToken(): Promise<string>;
	/** Called once after a 401; true when a new token was obtained and the call may be retried. */
	renew?(): Promise<boolean>;
}

export interface LoginAnswer {
	idtoken: string;
	accesstoken: string;
	refreshtoken?: string;
}

export interface RainMakerApiOptions {
	/** e.g. http://127.0.0.1:8080/v1/ or https://api.rainmaker.espressif.com/v1/ */
	baseUrl: string;
	accessToken?: string;
	tokens?: TokenSource;
	/** Per request. Default 10 s. */
	timeoutMs?: number;
}

export function isJsonObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class RainMakerApi {
	readonly baseUrl: string;
	readonly #token: string | undefined;
	readonly #tokens: TokenSource | undefined;
	readonly #timeoutMs: number;

	constructor(options: RainMakerApiOptions) {
		this.baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
		this.#token = options.accessToken;
		this.#tokens = options.tokens;
		this.#timeoutMs = options.timeoutMs ?? 10_000;
	}

	/** `POST login2` with a user name and password → id, access and refresh tokens. */
	async login(userName: string, password: string): Promise<LoginAnswer> {
		return this.#tokensOf(await this.#call("POST", "login2", {}, {user_name: userName, password}, false), true);
	}

	/** `POST login2` with the refresh token → new id and access tokens. */
	async refresh(refreshToken: string, userName?: string): Promise<LoginAnswer> {
		return this.#tokensOf(
			await this.#call(
				"POST",
				"login2",
				{},
				{refreshtoken: refreshToken, ...(userName !== undefined ? {user_name: userName} : {})},
				false,
			),
			false,
		);
	}

	/** `POST logout2`: ends the session of the current access token. */
	async logout(): Promise<void> {
		await this.#call("POST", "logout2", {}, {logout_all: false});
	}

	/** `GET user/nodes` with details, following `next_id` to the end. */
	async listNodes(): Promise<JsonObject[]> {
		const details: JsonObject[] = [];
		let startId: string | undefined;
		for (let page = 0; page < 1000; page++) {
			const answer = this.#object(
				await this.#call("GET", "user/nodes", {
					node_details: "true",
					...(startId !== undefined ? {start_id: startId} : {}),
				}),
				"GET user/nodes",
			);
			if (Array.isArray(answer.node_details)) details.push(...answer.node_details.filter(isJsonObject));
			if (typeof answer.next_id !== "string" || answer.next_id === "") return details;
			startId = answer.next_id;
		}
		throw new RainMakerApiError(200, "the node list does not end", "GET", "user/nodes");
	}

	#tokensOf(value: Json, withRefresh: boolean): LoginAnswer {
		if (
			!isJsonObject(value) ||
			typeof value.idtoken !== "string" ||
			typeof value.accesstoken !== "string" ||
			(withRefresh && typeof value.refreshtoken !== "string")
		)
			throw new RainMakerApiError(
				200,
				`login2 answered without tokens: ${JSON.stringify(value).slice(0, 200)}`,
				"POST",
				"login2",
			);
		return {
			idtoken: value.idtoken,
			accesstoken: value.accesstoken,
			...(typeof value.refreshtoken === "string" ? {refreshtoken: value.refreshtoken} : {}),
		};
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
		const entry = Array.isArray(answer)
			? (answer.find(item => isJsonObject(item) && item.node_id === nodeId) ?? answer[0])
			: answer;
		if (!isJsonObject(entry) || entry.status !== "success") {
			const description =
				isJsonObject(entry) && typeof entry.description === "string"
					? entry.description
					: `unexpected answer ${JSON.stringify(answer)}`;
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
			throw new RainMakerApiError(
				200,
				`expected a JSON object, got ${JSON.stringify(value)}`,
				...(what.split(" ", 2) as [string, string]),
			);
		return value;
	}

	async #call(
		method: string,
		path: string,
		query: Record<string, string>,
		body?: Json,
		authorized = true,
	): Promise<Json> {
		try {
			return await this.#callOnce(method, path, query, body, authorized);
		} catch (error) {
			// An access token the cloud no longer takes (expired early, session renewed elsewhere): renew once.
			if (
				authorized &&
				error instanceof RainMakerApiError &&
				error.httpStatus === 401 &&
				(await this.#tokens?.renew?.())
			)
				return this.#callOnce(method, path, query, body, authorized);
			throw error;
		}
	}

	async #callOnce(
		method: string,
		path: string,
		query: Record<string, string>,
		body: Json | undefined,
		authorized: boolean,
	): Promise<Json> {
		const url = new URL(path, this.baseUrl);
		for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
		const headers: Record<string, string> = {Accept: "application/json"};
		if (authorized && this.#tokens) headers.Authorization = await this.#tokens.accessToken();
		else if (authorized && this.#token !== undefined) headers.Authorization = this.#token;
		if (body !== undefined) headers["Content-Type"] = "application/json";
		let response: Response | undefined;
		// A GET is retried once on a fresh connection: a kept-alive connection may have been closed by
		// the server in the meantime (a restarted cloud), which is no answer about the server.
		for (let attempt = 1; !response; attempt++) {
			try {
				response = await fetch(url, {
					method,
					headers,
					...(body !== undefined ? {body: JSON.stringify(body)} : {}),
					signal: AbortSignal.timeout(this.#timeoutMs),
				});
			} catch (error) {
				const cause = (error as {cause?: {code?: string; message?: string}}).cause;
				const code = cause?.code ?? cause?.message ?? (error as Error).message;
				if (method === "GET" && attempt === 1 && (code === "UND_ERR_SOCKET" || code === "ECONNRESET")) continue;
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
			const description =
				isJsonObject(value) && typeof value.description === "string" ? value.description : text.slice(0, 200);
			throw new RainMakerApiError(response.status, description, method, path);
		}
		return value;
	}
}
