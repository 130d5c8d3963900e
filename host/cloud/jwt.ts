/*
 * The JSON Web Tokens the local cloud issues at `login2` (HS256 with a secret drawn when the cloud
 * starts) and checks on every user call. Both Espressif clients read claims out of the tokens
 * without a JWT library: the app SDK with `atob(token.split(".")[1])` and esp-rainmaker-cli with
 * Python's `base64.b64decode` (docs/local-cloud.md, "Tokens"). Neither decoder knows the base64url
 * letters `-` and `_`, so the payload is written such that its base64url text never contains
 * them: the few ASCII characters that can produce them (`/ ? O _ o > ~`) are written as JSON
 * `\u00XX` escapes, which every JSON parser reads back as the same string.
 */
import {createHmac, timingSafeEqual} from "node:crypto";

export type JwtClaims = Record<string, unknown> & {exp: number; iat: number};

/** Characters whose ASCII code can yield base64 sextet 62 or 63 (`+`/`-`, `/`/`_`) in some position. */
const unsafeForPlainBase64 = /[/?O_o>~\x7f]/g;

function base64url(bytes: Buffer | string): string {
	return Buffer.from(bytes).toString("base64url");
}

/** JSON text of the claims whose base64url form has neither `-` nor `_` (see above). */
export function plainBase64Json(value: unknown): string {
	return JSON.stringify(value).replace(
		unsafeForPlainBase64,
		character => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
	);
}

const header = base64url(JSON.stringify({alg: "HS256", typ: "JWT"}));

/** True when `text` is exactly what base64url-encoding its decoded bytes gives back (no padding, no stray characters). */
export function isCanonicalBase64url(text: string): boolean {
	return /^[A-Za-z0-9_-]+$/.test(text) && Buffer.from(text, "base64url").toString("base64url") === text;
}

export function signJwt(claims: JwtClaims, secret: Buffer): string {
	const body = `${header}.${base64url(plainBase64Json(claims))}`;
	return `${body}.${base64url(createHmac("sha256", secret).update(body).digest())}`;
}

export type JwtCheck = {ok: true; claims: JwtClaims} | {ok: false; reason: "malformed" | "signature" | "expired"};

/** Checks form, signature and expiry (`exp`, seconds since the epoch) of a token this cloud signed. */
export function verifyJwt(token: string, secret: Buffer, nowSeconds: number): JwtCheck {
	const parts = token.split(".");
	// Strict base64url: Node's decoder skips characters it does not know and ignores trailing bits,
	// so a token with characters appended would decode to the same bytes. Only the canonical text counts.
	if (parts.length !== 3 || parts[0] !== header || !parts.every(isCanonicalBase64url))
		return {ok: false, reason: "malformed"};
	const expected = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
	const given = Buffer.from(parts[2]!, "base64url");
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) return {ok: false, reason: "signature"};
	let claims: unknown;
	try {
		claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
	} catch {
		return {ok: false, reason: "malformed"};
	}
	if (typeof claims !== "object" || claims === null || typeof (claims as JwtClaims).exp !== "number")
		return {ok: false, reason: "malformed"};
	if (nowSeconds >= (claims as JwtClaims).exp) return {ok: false, reason: "expired"};
	return {ok: true, claims: claims as JwtClaims};
}
