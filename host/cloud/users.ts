/*
 * Users of the local cloud and what they may touch: accounts given with `--user/--password`, the
 * login sessions behind `login2`/`logout2` (JWTs, jwt.ts), and which user each node belongs to.
 * A node belongs to the first user unless it was mapped to another one (or unmapped); a user reads
 * and writes only their own nodes (docs/local-cloud.md, "Users and authorization").
 */
import {randomBytes, randomUUID, scryptSync, timingSafeEqual} from "node:crypto";
import {ApiError, ErrorCode} from "./http-json";
import {LoginThrottle, type ThrottleOptions} from "./login-throttle";
import {signJwt, verifyJwt, type JwtClaims} from "./jwt";

export interface CloudUser {
	/** The login name: an e-mail address, as the real cloud's user names are. */
	userName: string;
	password: string;
}

export interface UserAccount {
	readonly userId: string;
	readonly userName: string;
	/** The first user administers the cloud (admin/otaimage, admin/otajob), as a RainMaker super admin. */
	readonly superAdmin: boolean;
}

export interface LoginTokens {
	idtoken: string;
	accesstoken: string;
	refreshtoken?: string;
}

export interface UserDirectoryOptions {
	/** Lifetime of the id and access tokens. Default 3600 s (RainMaker's one hour). */
	tokenLifetimeSeconds?: number;
	/** Lifetime of a refresh token. Default 30 days. */
	refreshLifetimeSeconds?: number;
	/** Signing key; default: 32 random bytes, so the tokens of one cloud run are worthless to the next. */
	secret?: Buffer;
	/** Login throttling (login-throttle.ts). */
	throttle?: ThrottleOptions;
}

/** Who made a request, from a valid access token. */
export interface Caller {
	account: UserAccount;
	sessionId: string;
}

interface Account extends UserAccount {
	salt: Buffer;
	hash: Buffer;
}

interface Session {
	userId: string;
	/** Epoch seconds after which the refresh token is no longer honoured. */
	refreshExpires: number;
}

const issuer = "rainmaker-ota-xs-local-cloud";

function hashPassword(password: string, salt: Buffer): Buffer {
	return scryptSync(password, salt, 32);
}

export class UserDirectory {
	readonly #accounts: Account[] = [];
	readonly #byName = new Map<string, Account>();
	readonly #sessions = new Map<string, Session>();
	/** node id → user id, or null for a node explicitly unmapped. Absent: the first user. */
	readonly #owners = new Map<string, string | null>();
	readonly #secret: Buffer;
	readonly #tokenLifetime: number;
	readonly #refreshLifetime: number;
	readonly #throttle: LoginThrottle;

	readonly #now: () => number;

	constructor(users: readonly CloudUser[], now: () => number, options: UserDirectoryOptions = {}) {
		this.#now = now;
		if (users.length === 0) throw new Error("the cloud needs at least one user");
		for (const user of users) {
			if (typeof user.userName !== "string" || user.userName.trim() === "")
				throw new Error("a user name must not be empty");
			if (typeof user.password !== "string" || user.password === "")
				throw new Error(`user ${user.userName}: the password must not be empty`);
			const key = user.userName.toLowerCase();
			if (this.#byName.has(key)) throw new Error(`user ${user.userName} is given twice`);
			const salt = randomBytes(16);
			const account: Account = {
				userId: randomUUID(),
				userName: user.userName,
				superAdmin: this.#accounts.length === 0,
				salt,
				hash: hashPassword(user.password, salt),
			};
			this.#accounts.push(account);
			this.#byName.set(key, account);
		}
		this.#secret = options.secret ?? randomBytes(32);
		this.#tokenLifetime = options.tokenLifetimeSeconds ?? 3600;
		this.#refreshLifetime = options.refreshLifetimeSeconds ?? 30 * 24 * 3600;
		this.#throttle = new LoginThrottle(now, options.throttle);
	}

	get users(): UserAccount[] {
		return this.#accounts.map(({userId, userName, superAdmin}) => ({userId, userName, superAdmin}));
	}

	get firstUser(): UserAccount {
		return this.#accounts[0]!;
	}

	byName(userName: string): UserAccount | undefined {
		return this.#byName.get(userName.toLowerCase());
	}

	#nowSeconds(): number {
		return Math.floor(this.#now() / 1000);
	}

	/**
	 * `login2` with a user name and password: a new session and its three tokens. Throttled per user
	 * name and per client `address` (429 with Retry-After); the hash runs off the event loop.
	 */
	async login(userName: string, password: string, address = "unknown"): Promise<LoginTokens> {
		const keys = [`user:${userName.toLowerCase()}`, `address:${address}`];
		const account = this.#byName.get(userName.toLowerCase());
		// The same answer for an unknown user and a wrong password: a caller learns nothing about the user names.
		const ok = await this.#throttle.verify(
			keys,
			password,
			account?.salt ?? Buffer.alloc(16),
			hash => account !== undefined && timingSafeEqual(hash, account.hash),
		);
		if (!ok || !account) throw new ApiError(401, "Incorrect user name or password", ErrorCode.badCredentials);
		const sessionId = randomUUID();
		const iat = this.#nowSeconds();
		this.#sessions.set(sessionId, {userId: account.userId, refreshExpires: iat + this.#refreshLifetime});
		return {
			...this.#sessionTokens(account, sessionId, iat),
			refreshtoken: signJwt(
				{
					sub: account.userId,
					token_use: "refresh",
					sid: sessionId,
					iss: issuer,
					iat,
					exp: iat + this.#refreshLifetime,
				},
				this.#secret,
			),
		};
	}

	/** `login2` with a refresh token (and, optionally, the user name it must belong to): fresh id and access tokens. */
	refresh(refreshToken: string, userName?: string): LoginTokens {
		const check = verifyJwt(refreshToken, this.#secret, this.#nowSeconds());
		const claims = check.ok && check.claims.token_use === "refresh" ? check.claims : undefined;
		const session = claims ? this.#sessions.get(String(claims.sid)) : undefined;
		const account = session ? this.#accounts.find(candidate => candidate.userId === session.userId) : undefined;
		if (
			!claims ||
			!session ||
			!account ||
			(userName !== undefined && account.userName.toLowerCase() !== userName.toLowerCase())
		)
			throw new ApiError(
				401,
				check.ok || check.reason !== "expired" ? "Invalid refresh token" : "Refresh token has expired",
				ErrorCode.badToken,
			);
		return this.#sessionTokens(account, String(claims.sid), this.#nowSeconds());
	}

	/** The caller of a request from its `Authorization` header (the bare access token, as both Espressif clients send it). */
	authenticate(authorization: string | undefined): Caller {
		if (authorization === undefined || authorization === "")
			throw new ApiError(
				401,
				"Unauthorized: log in with POST login2 and send the access token in the Authorization header",
				ErrorCode.unauthorized,
			);
		const token = authorization.replace(/^Bearer\s+/i, "");
		const check = verifyJwt(token, this.#secret, this.#nowSeconds());
		if (!check.ok)
			throw new ApiError(
				401,
				check.reason === "expired"
					? "Unauthorized: the access token has expired"
					: "Unauthorized: invalid access token",
				ErrorCode.unauthorized,
			);
		const claims = check.claims;
		const sessionId = String(claims.sid);
		const session = this.#sessions.get(sessionId);
		if (claims.token_use !== "access" || !session || session.userId !== claims.sub)
			throw new ApiError(401, "Unauthorized: the session has ended; log in again", ErrorCode.unauthorized);
		return {account: this.#accounts.find(account => account.userId === session.userId)!, sessionId};
	}

	/** `logout2`: ends the caller's session, or all of the user's sessions. */
	logout(caller: Caller, all: boolean): void {
		for (const [id, session] of [...this.#sessions]) {
			if (id === caller.sessionId || (all && session.userId === caller.account.userId)) this.#sessions.delete(id);
		}
	}

	/** The user a node belongs to; undefined for a node unmapped from everybody. */
	ownerOf(nodeId: string): string | undefined {
		if (!this.#owners.has(nodeId)) return this.firstUser.userId;
		return this.#owners.get(nodeId) ?? undefined;
	}

	owns(account: UserAccount, nodeId: string): boolean {
		return this.ownerOf(nodeId) === account.userId;
	}

	/** Maps the node to a user (undefined = to nobody). */
	map(nodeId: string, userId: string | undefined): void {
		this.#owners.set(nodeId, userId ?? null);
	}

	/** Node ids with an explicit mapping (to list mapped nodes the registry has not seen yet). */
	mappedNodes(): string[] {
		return [...this.#owners.keys()];
	}

	#sessionTokens(account: Account, sessionId: string, iat: number): LoginTokens {
		const exp = iat + this.#tokenLifetime;
		const common: Omit<JwtClaims, "exp" | "iat"> = {
			sub: account.userId,
			"custom:user_id": account.userId,
			sid: sessionId,
			iss: issuer,
		};
		return {
			idtoken: signJwt(
				{
					...common,
					token_use: "id",
					email: account.userName,
					email_verified: true,
					"custom:admin": account.superAdmin,
					iat,
					exp,
				},
				this.#secret,
			),
			accesstoken: signJwt({...common, token_use: "access", username: account.userName, iat, exp}, this.#secret),
		};
	}
}
