/*
 * The simulated node's inputs, checked before anything boots (docs/host-tools.md, "Bad input"):
 * every file an option names is readable, --image is an ESP32 app image, an empty flash has an
 * --image to provision, and (for the `node` command) the broker answers. Each refusal is one line
 * that names the option and the value, says what is wrong and what to do (OptionError: exit 2),
 * and nothing is created first: no flash file, no folder.
 */
import {closeSync, existsSync, openSync, readSync} from "node:fs";
import {connect} from "node:net";
import {join} from "node:path";
import {HEADER_PROBE_LENGTH, parseImageHeader} from "../../ota/image";
import {OptionError} from "../../ota/options";
import type {NodeOptions} from "./node-options";

const MAKE_ONE = "rainmaker-ota-xs image make <file> --version 1.0.0 makes one";

/** Why a file cannot be read, in words ("no such file"), from Node's error code. */
function unreadable(error: unknown): string {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === "ENOENT") return "no such file";
	if (code === "EACCES" || code === "EPERM") return "permission denied";
	if (code === "EISDIR") return "it is a folder";
	return code ?? (error as Error).message;
}

/** The first `length` bytes of `path` (fewer when the file is shorter). */
function head(path: string, length: number): Uint8Array {
	const fd = openSync(path, "r");
	try {
		const bytes = new Uint8Array(length);
		return bytes.subarray(0, readSync(fd, bytes, 0, length, 0));
	} finally {
		closeSync(fd);
	}
}

/** Throws OptionError for a file option that names no readable file. */
function readable(flag: string, path: string | undefined, what: string): void {
	if (path === undefined) return;
	try {
		head(path, 1);
	} catch (error) {
		throw new OptionError(`${flag} ${path}: cannot read it (${unreadable(error)}): give the path of ${what}`);
	}
}

/** The checks that need no network: files and the flash. Throws OptionError. */
export function checkNodeFiles(options: NodeOptions): void {
	readable("--image", options.image, `an app image (${MAKE_ONE})`);
	if (options.image !== undefined) {
		try {
			parseImageHeader(head(options.image, HEADER_PROBE_LENGTH));
		} catch (error) {
			throw new OptionError(
				`--image ${options.image}: not an ESP32 app image (${(error as Error).message}): give an app image built for the node (${MAKE_ONE})`,
			);
		}
	}
	readable("--fctry", options.fctry, "an NVS image with the node's claim data (esp-rainmaker-cli claim writes one)");
	readable("--ca", options.ca, "the broker's CA certificate (PEM)");
	readable("--cert", options.cert, "the node's certificate (PEM)");
	readable("--key", options.key, "the node's private key (PEM)");
	readable("--http-ca", options.httpCa, "the CA certificate of the firmware server (PEM)");
	const flashFile = join(options.flashDir, "flash.bin");
	if (options.image === undefined && !existsSync(flashFile))
		throw new OptionError(
			`--flash-dir ${options.flashDir}: the flash is empty (no ${flashFile}) and there is no firmware to boot: pass --image <app.bin> to provision one (${MAKE_ONE})`,
		);
}

/** Throws OptionError when the broker of --broker does not accept a TCP connection within `timeoutMs`. */
export async function checkBroker(options: NodeOptions, timeoutMs = 5000): Promise<void> {
	if (options.broker === undefined) return;
	const url = new URL(options.broker);
	const port = Number(url.port || (url.protocol === "mqtts:" ? 8883 : 1883));
	const host = url.hostname.replace(/^\[|\]$/g, "");
	const failure = await new Promise<string | undefined>(resolve => {
		const socket = connect({host, port});
		const end = (reason: string | undefined) => {
			socket.destroy();
			resolve(reason);
		};
		socket.setTimeout(timeoutMs, () => end(`no answer within ${timeoutMs / 1000} s`));
		socket.once("connect", () => end(undefined));
		socket.once("error", error => end((error as NodeJS.ErrnoException).code ?? error.message));
	});
	if (failure !== undefined)
		throw new OptionError(
			`--broker ${options.broker}: cannot connect (${failure}): start the cloud first (rainmaker-ota-xs cloud) or give the broker's address`,
		);
}
