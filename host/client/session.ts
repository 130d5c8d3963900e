/*
 * The approval client's login session (`app login`): the tokens of `POST login2`, kept in the
 * state file, and the access token renewed with the refresh token shortly before it expires or
 * after the cloud refused it, as Espressif's app SDK and CLI do (they read `exp` from the token).
 */
import type {LoginAnswer, RainMakerApi, TokenSource} from "./api";
import type {AppState, StoredSession} from "./state";

/** Renew this long before `exp`, so a token does not expire on its way to the cloud. */
const renewMarginSeconds = 60;

/** The claims of a JWT, read without checking it (the cloud checks it); undefined if it is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
	const payload = token.split(".")[1];
	if (payload === undefined) return undefined;
	try {
		const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
		return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
}

export function sessionFrom(baseUrl: string, userName: string, answer: LoginAnswer): StoredSession {
	return {
		baseUrl,
		userName,
		idToken: answer.idtoken,
		accessToken: answer.accesstoken,
		refreshToken: answer.refreshtoken ?? "",
	};
}

export class ClientSession implements TokenSource {
	#api: RainMakerApi | undefined;

	readonly #state: AppState;
	readonly #now: () => number;

	constructor(state: AppState, now: () => number = Date.now) {
		this.#state = state;
		this.#now = now;
	}

	/** The API the session renews its tokens through (set once the API object exists). */
	attach(api: RainMakerApi): void {
		this.#api = api;
	}

	#stored(): StoredSession {
		const session = this.#state.session();
		if (!session)
			throw new Error(
				`not logged in: run "rainmaker-ota-xs app login --user <email> --password <secret>" first (state file ${this.#state.path})`,
			);
		return session;
	}

	async accessToken(): Promise<string> {
		const session = this.#stored();
		const exp = jwtClaims(session.accessToken)?.exp;
		if (typeof exp === "number" && this.#now() / 1000 >= exp - renewMarginSeconds)
			return (await this.#renew(session)).accessToken;
		return session.accessToken;
	}

	async renew(): Promise<boolean> {
		await this.#renew(this.#stored());
		return true;
	}

	async #renew(session: StoredSession): Promise<StoredSession> {
		if (!this.#api) throw new Error("the session has no API to renew its token through");
		if (session.refreshToken === "") throw new Error("the session has no refresh token; log in again");
		let answer: LoginAnswer;
		try {
			answer = await this.#api.refresh(session.refreshToken);
		} catch (error) {
			throw new Error(`the login session could not be renewed (${(error as Error).message}); log in again`, {
				cause: error,
			});
		}
		const renewed = {...session, idToken: answer.idtoken, accessToken: answer.accesstoken};
		this.#state.saveSession(renewed);
		return renewed;
	}
}
