/*
 * The cloud's public REST API as the page calls it, with the requests and answers of the real ESP
 * RainMaker API (docs/protocol.md §9; the paths and fields Espressif's app SDK uses): `login2` with
 * user name and password (and again with the refresh token when the access token has expired),
 * `Authorization: <accesstoken>` on every other call, errors as `{"status":"failure","description"}`.
 * A failed call throws the approval client's RainMakerApiError; the page shows its description.
 */
import {RainMakerApiError} from "../../client/api-error";

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
export type JsonObject = {[key: string]: Json};

export function isObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

export {RainMakerApiError};

export interface Session {
	userName: string;
	accessToken: string;
	refreshToken?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

const storageKey = "rainmaker-ota-xs.session";

export class RestApi {
	#session: Session | undefined;
	/** Called when the session ends (logout, or a refresh that failed). */
	onSignedOut: (reason: string) => void = () => {};

	constructor(readonly base = "/v1/") {
		try {
			const saved: unknown = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
			if (isObject(saved) && typeof saved.userName === "string" && typeof saved.accessToken === "string")
				this.#session = {
					userName: saved.userName,
					accessToken: saved.accessToken,
					...(typeof saved.refreshToken === "string" ? {refreshToken: saved.refreshToken} : {}),
				};
		} catch {
			// no saved session
		}
	}

	get session(): Session | undefined {
		return this.#session;
	}

	async login(userName: string, password: string): Promise<Session> {
		const answer = await this.#send("POST", "login2", undefined, {user_name: userName, password}, false);
		if (!isObject(answer) || typeof answer.accesstoken !== "string")
			throw new RainMakerApiError(0, "the cloud's login answer has no access token", "POST", "login2");
		this.#save({
			userName,
			accessToken: answer.accesstoken,
			...(typeof answer.refreshtoken === "string" ? {refreshToken: answer.refreshtoken} : {}),
		});
		return this.#session!;
	}

	async logout(): Promise<void> {
		try {
			if (this.#session) await this.#send("POST", "logout2", undefined, {}, true);
		} finally {
			this.#save(undefined);
		}
	}

	/** An authorized call; an expired access token is refreshed once with the refresh token. */
	async call(method: string, path: string, query?: Query, body?: unknown): Promise<Json> {
		if (!this.#session) throw new RainMakerApiError(401, "not signed in", method, path);
		const used = this.#session.accessToken;
		try {
			return await this.#send(method, path, query, body, true);
		} catch (error) {
			if (!(error instanceof RainMakerApiError) || error.httpStatus !== 401) throw error;
			// Calls run side by side: the first 401 renews the token, the others wait for it.
			if (this.#session?.accessToken === used) {
				this.#refreshing ??= this.#refresh(error.description).finally(() => (this.#refreshing = undefined));
				await this.#refreshing;
			}
			if (!this.#session) throw error;
			return this.#send(method, path, query, body, true);
		}
	}

	#refreshing: Promise<void> | undefined;

	async #refresh(why: string): Promise<void> {
		const session = this.#session;
		if (!session?.refreshToken) {
			this.#signedOut(`Signed out: ${why}`);
			throw new RainMakerApiError(401, why, "POST", "login2");
		}
		let answer: Json;
		try {
			answer = await this.#send(
				"POST",
				"login2",
				undefined,
				{user_name: session.userName, refreshtoken: session.refreshToken},
				false,
			);
		} catch (error) {
			this.#signedOut(
				`Signed out: the session could not be renewed (${error instanceof RainMakerApiError ? error.description : (error as Error).message})`,
			);
			throw error;
		}
		if (!isObject(answer) || typeof answer.accesstoken !== "string") {
			this.#signedOut("Signed out: the cloud's token renewal answer has no access token");
			throw new RainMakerApiError(401, "no access token", "POST", "login2");
		}
		this.#save({...session, accessToken: answer.accesstoken});
	}

	#signedOut(reason: string): void {
		this.#save(undefined);
		this.onSignedOut(reason);
	}

	#save(session: Session | undefined): void {
		this.#session = session;
		if (session) sessionStorage.setItem(storageKey, JSON.stringify(session));
		else sessionStorage.removeItem(storageKey);
	}

	async #send(
		method: string,
		path: string,
		query: Query | undefined,
		body: unknown,
		authorized: boolean,
	): Promise<Json> {
		const url = new URL(this.base + path, location.href);
		for (const [key, value] of Object.entries(query ?? {})) {
			if (value !== undefined) url.searchParams.set(key, String(value));
		}
		const headers: Record<string, string> = {};
		if (body !== undefined) headers["Content-Type"] = "application/json";
		if (authorized && this.#session) headers.Authorization = this.#session.accessToken;
		let response: Response;
		try {
			response = await fetch(url, {
				method,
				headers,
				...(body !== undefined ? {body: JSON.stringify(body)} : {}),
				cache: "no-store",
			});
		} catch {
			throw new RainMakerApiError(0, "cannot reach the cloud (is it still running?)", method, path);
		}
		const text = await response.text();
		let json: Json = null;
		try {
			json = text === "" ? null : (JSON.parse(text) as Json);
		} catch {
			if (response.ok)
				throw new RainMakerApiError(
					response.status,
					`the cloud answered ${path} with something that is not JSON`,
					method,
					path,
				);
		}
		if (!response.ok || (isObject(json) && json.status === "failure")) {
			const description =
				isObject(json) && typeof json.description === "string"
					? json.description
					: text.slice(0, 200) || response.statusText;
			throw new RainMakerApiError(response.status, description || `HTTP ${response.status}`, method, path);
		}
		return json;
	}
}
