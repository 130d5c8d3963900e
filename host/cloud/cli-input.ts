/*
 * The cloud command's bad input (docs/host-tools.md, "Bad input"): an --image that is not a
 * readable app image, refused before any listener starts, and a port that is taken or not allowed,
 * each as one line naming the option, what is wrong and what to do (exit 2).
 */
import {closeSync, openSync, readSync} from "node:fs";
import {HEADER_PROBE_LENGTH, parseImageHeader} from "../../ota/image";
import {CliUsageError} from "./cli-access";
import type {CloudOptions} from "./cloud";

/** A usage error whose line already says what to do (no pointer to --help). */
export class FileError extends CliUsageError {}

/** An --image the image store refused after the start (the cloud closes again): exit 2. */
export class BadImageError extends Error {}

const MAKE_ONE = "rainmaker-ota-xs image make <file> --version <v> makes one";

/** Refuses an --image that is not a readable ESP32 app image, naming the file (UsageError). */
export function checkImageFile(path: string): void {
	let bytes: Uint8Array;
	try {
		const fd = openSync(path, "r");
		try {
			bytes = new Uint8Array(HEADER_PROBE_LENGTH);
			bytes = bytes.subarray(0, readSync(fd, bytes, 0, HEADER_PROBE_LENGTH, 0));
		} finally {
			closeSync(fd);
		}
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why =
			code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? "unreadable");
		throw new FileError(`--image ${path}: cannot read it (${why}): give the path of an app image (${MAKE_ONE})`);
	}
	try {
		parseImageHeader(bytes);
	} catch (error) {
		throw new FileError(
			`--image ${path}: not an ESP32 app image (${(error as Error).message}): give an app image built for the node (${MAKE_ONE})`,
		);
	}
}

/** A listener that could not start on its port, as one line naming the option; undefined for other errors. */
export function listenRefusal(
	error: NodeJS.ErrnoException & {port?: number},
	options: CloudOptions,
): string | undefined {
	if (error.code !== "EADDRINUSE" && error.code !== "EACCES") return undefined;
	const flags: [string, number | undefined][] = [
		["--mqtt-port", options.mqttPort],
		["--http-port", options.httpPort],
		["--mqtts-port", options.mqttsPort],
		["--https-port", options.httpsPort],
	];
	const flag = flags.find(([, port]) => port !== undefined && port === error.port)?.[0] ?? "a port";
	const what =
		error.code === "EADDRINUSE"
			? `port ${error.port} is in use by another program`
			: `port ${error.port} needs privileges this user lacks`;
	return `${flag} ${error.port ?? ""}: ${what} (${error.code}): stop that program or choose another port (${flag === "a port" ? "--http-port" : flag} 0 picks a free one)`;
}
