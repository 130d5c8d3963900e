/*
 * The firmware URL, parsed and judged in one place (docs/protocol.md §5.6): an absolute http(s)
 * URL with a host and a valid port, no credentials; http only when the options allow it. The otaurl
 * parse refuses a job whose url fails this (it is reported failed and never offered), the download
 * applies it to redirects, and the device's HTTP client splits the URL with the same parser.
 */

export interface ParsedUrl {
	readonly secure: boolean;
	readonly host: string;
	readonly port: number;
	/** Path and query, at least "/". */
	readonly path: string;
}

/** Parses an absolute http(s) URL; throws a clear Error for anything else. */
export function parseHttpUrl(url: string): ParsedUrl {
	const match = /^(https?):\/\/([^/?#]*)([^#]*)/i.exec(url);
	if (!match) throw new Error(`not an http(s) URL: ${JSON.stringify(url)}`);
	const secure = match[1].toLowerCase() === "https";
	let authority = match[2];
	const at = authority.lastIndexOf("@");
	if (at >= 0) throw new Error("URLs with credentials are not supported");
	let host: string;
	let portText: string | undefined;
	if (authority.startsWith("[")) {
		const close = authority.indexOf("]");
		if (close < 0) throw new Error(`bad IPv6 host in URL: ${JSON.stringify(url)}`);
		host = authority.slice(1, close);
		authority = authority.slice(close + 1);
		if (authority && !authority.startsWith(":")) throw new Error(`bad host in URL: ${JSON.stringify(url)}`);
		portText = authority ? authority.slice(1) : undefined;
	} else {
		const colon = authority.indexOf(":");
		host = colon < 0 ? authority : authority.slice(0, colon);
		portText = colon < 0 ? undefined : authority.slice(colon + 1);
	}
	if (!host) throw new Error(`no host in URL: ${JSON.stringify(url)}`);
	let port = secure ? 443 : 80;
	if (portText !== undefined && portText !== "") {
		if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
			throw new Error(`bad port in URL: ${JSON.stringify(url)}`);
		port = Number(portText);
	}
	const path = match[3] ? (match[3].startsWith("/") ? match[3] : "/" + match[3]) : "/";
	return {secure, host, port, path};
}

/** "host:port" of an http(s) URL (default ports filled in), for error texts; "" when it has none. */
export function hostAndPort(url: string): string {
	const match = /^(https?):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?/i.exec(url);
	if (!match) return "";
	const port = match[3] ? match[3] : match[1].toLowerCase() === "https" ? "443" : "80";
	return match[2] + ":" + port;
}

/**
 * Why `url` may not be fetched (scheme, host, port; a redirect from https to http), or undefined.
 * The one rule for a firmware URL: the otaurl parse applies it to the job's url (ota/otaurl.ts) and
 * the download to each redirect target.
 */
export function urlRefusal(url: string, allowHttp: boolean, from?: string): string | undefined {
	if (/^https?:\/\//i.test(url)) {
		try {
			parseHttpUrl(url);
		} catch (error) {
			return error instanceof Error ? error.message : String(error);
		}
	}
	if (/^https:\/\//i.test(url)) return undefined;
	if (/^http:\/\//i.test(url)) {
		if (from !== undefined && /^https:/i.test(from))
			return `refusing the redirect from https to http (${JSON.stringify(url.slice(0, 60))})`;
		return allowHttp
			? undefined
			: `refusing the plain HTTP firmware URL (allowHttp is off) ${JSON.stringify(url.slice(0, 60))}`;
	}
	return `unsupported URL ${JSON.stringify(url.slice(0, 40))}: a firmware URL must be https:// (http:// only with allowHttp)`;
}
