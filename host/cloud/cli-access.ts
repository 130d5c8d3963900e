/*
 * Two checks of `rainmaker-ota-xs cloud` that decide who can reach the cloud (docs/local-cloud.md,
 * "Running it"): where it listens and which address its URLs name, and where the users' passwords
 * come from (the command line shows in `ps`; a file or the environment does not).
 */
import {randomBytes} from "node:crypto";
import {readFileSync} from "node:fs";
import {isIP} from "node:net";
import {networkInterfaces} from "node:os";
import {DEFAULT_USER} from "./defaults";
import type {CloudUser} from "./users";

/** The environment variable with the users' passwords, one line per --user (or the one line of the default user). */
export const PASSWORDS_ENV = "RAINMAKER_OTA_XS_CLOUD_PASSWORDS";

export class CliUsageError extends Error {}

export function isLoopback(host: string): boolean {
	return host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
}

function isWildcard(host: string): boolean {
	return host === "0.0.0.0" || host === "::";
}

/** A reachable address of this machine for a wildcard listener: the first non-internal IPv4 (else IPv6) address. */
export function reachableAddress(family: "IPv4" | "IPv6" = "IPv4"): string | undefined {
	const addresses = Object.values(networkInterfaces())
		.flat()
		.filter(entry => entry !== undefined && !entry.internal);
	return (addresses.find(entry => entry!.family === family) ?? addresses[0])?.address;
}

/**
 * The address to listen on and the one to put into URLs. A plain MQTT listener (no certificate,
 * so no identity) off loopback needs `allowPlainOnNetwork`; a wildcard listen address is
 * advertised as a reachable address of the machine unless `advertise` names one.
 */
export function listenAddresses(
	host: string,
	plainMqtt: boolean,
	allowPlainOnNetwork: boolean,
	advertise: string | undefined,
): {host: string; advertisedHost: string} {
	if (plainMqtt && !isLoopback(host) && !allowPlainOnNetwork)
		throw new CliUsageError(
			`--host ${host}: the plain MQTT listener checks no identity, and off loopback anyone on the network can ` +
				"connect as any node; use --tls-ca (mutual TLS), or say --allow-plain-on-network if you mean it",
		);
	if (advertise !== undefined) return {host, advertisedHost: advertise};
	const advertisedHost = advertisedHostFor(host);
	if (advertisedHost === undefined)
		throw new CliUsageError(
			`--host ${host}: no network address of this machine to put into URLs; name one with --advertise-host`,
		);
	return {host, advertisedHost};
}

/** The host name URLs name for a listen address: itself, or for a wildcard a reachable address of this machine. */
export function advertisedHostFor(host: string): string | undefined {
	const name = isWildcard(host) ? reachableAddress(host === "::" ? "IPv6" : "IPv4") : host;
	return name === undefined ? undefined : name.includes(":") ? `[${name}]` : name;
}

function lines(text: string): string[] {
	return text
		.split(/\r?\n/)
		.filter((line, index, all) => line !== "" || index < all.length - 1)
		.map(line => line.replace(/\r$/, ""));
}

/**
 * The users with their passwords: from --password (one per --user), a --password-file (one line
 * per --user, in order), or the environment variable PASSWORDS_ENV (the same lines). Without
 * --user, the default user with the given password or a random one (`generated`).
 */
export function cliUsers(
	userNames: string[],
	passwords: string[],
	passwordFile: string | undefined,
	env: NodeJS.ProcessEnv,
): {users: CloudUser[]; generated?: string} {
	const sources = [passwords.length > 0, passwordFile !== undefined].filter(Boolean).length;
	if (sources > 1)
		throw new CliUsageError("give the passwords either with --password or with --password-file, not both");
	let given: string[] = passwords;
	if (passwordFile !== undefined) {
		try {
			given = lines(readFileSync(passwordFile, "utf8"));
		} catch (error) {
			throw new CliUsageError(
				`--password-file: cannot read ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
			);
		}
	} else if (passwords.length === 0 && env[PASSWORDS_ENV] !== undefined) {
		given = lines(env[PASSWORDS_ENV]);
	}
	if (userNames.length === 0) {
		if (given.length > 1)
			throw new CliUsageError(`without --user there is one user; ${given.length} passwords were given`);
		if (passwords.length > 0) throw new CliUsageError(`--password needs its --user`);
		const generated = given.length === 0 ? randomBytes(9).toString("base64url") : undefined;
		return {
			users: [{userName: DEFAULT_USER.userName, password: given[0] ?? generated!}],
			...(generated ? {generated} : {}),
		};
	}
	if (userNames.length !== given.length) {
		const from =
			passwordFile !== undefined
				? `lines in ${passwordFile}`
				: passwords.length > 0 || env[PASSWORDS_ENV] === undefined
					? "--password"
					: `lines in $${PASSWORDS_ENV}`;
		throw new CliUsageError(
			`each --user needs its password (${userNames.length} user(s), ${given.length} ${from})`,
		);
	}
	return {users: userNames.map((userName, index) => ({userName, password: given[index]!}))};
}
