/*
 * Benchmark 9's probe (bench/lin-download.ts): runs in mcsim on the same runtime as the lin
 * firmware (this manifest includes the firmware's), with one job chosen by RMX_PROBE_MODE:
 * - "socket": a plain Socket reads RMX_PROBE_HOST:RMX_PROBE_PORT until the server closes (the lin
 *   port's own ceiling: modSocket.c polls every 20 ms and reads 1024 bytes per readable socket);
 * - "request": the SDK's plain Request reads RMX_PROBE_URL (http or https; the CA is
 *   $RMX_FLASH_DIR/ca.der) and discards every fragment, read whole;
 * - "stages": the firmware's own per-chunk work on RMX_PROBE_BYTES bytes in 1460-byte chunks, each
 *   stage timed with the process's CPU clock (getrusage through FFI): the MD5 adapter
 *   (device/digest.ts) and the update slot's writes through FFI (idf/update-partition.ts on
 *   device/lin/flash.ts, $RMX_FLASH_DIR/flash.bin).
 * Lines start with "probe: "; the bench reads the mcsim process's CPU time at "first byte" and
 * "done". Not part of the firmware.
 */
import FFI from "mc/ffi";
import {Request} from "http";
import {Socket} from "socket";
import SecureSocket from "securesocket";
import Resource from "Resource";
import {parseHttpUrl} from "device/http-client";
import {createCryptDigest} from "device/digest";
import {LinFlash} from "device/lin/flash";
import {FlashDevice} from "idf/flash-device";
import {DEFAULT_EFUSE} from "idf/efuse";
import {parsePartitionTable} from "idf/partitions";
import {FlashUpdatePartition} from "idf/update-partition";

const native = new FFI();
const env = name => native.bench_env(name);
const cpu = () => native.bench_cpu_seconds();
const say = text => trace(`probe: ${text}\n`);
const CHUNK = 1460;

function finish(bytes, firstCpu) {
	say(`done ${bytes} bytes, own cpu ${(cpu() - firstCpu).toFixed(6)} s`);
	// the bench reads the CPU time at "done" and then ends the process
}

function socketProbe() {
	let bytes = 0,
		firstCpu = -1;
	const socket = new Socket({host: env("RMX_PROBE_HOST"), port: Number(env("RMX_PROBE_PORT"))});
	socket.callback = function (message, value) {
		if (message === 2) {
			if (firstCpu < 0) {
				firstCpu = cpu();
				say("first byte");
			}
			bytes += this.read(ArrayBuffer).byteLength;
		} else if (message < 0) finish(bytes, firstCpu);
	};
}

function caCertificate() {
	const size = native.otaplat_file_size("ca.der");
	if (size <= 0) return undefined;
	const bytes = new ArrayBuffer(size);
	native.otaplat_file_read("ca.der", bytes, 0, size);
	return bytes;
}

function requestProbe() {
	const target = parseHttpUrl(env("RMX_PROBE_URL"));
	const dictionary = {host: target.host, port: target.port, path: target.path, method: "GET"};
	if (target.secure) {
		dictionary.Socket = SecureSocket;
		const certificate = caCertificate();
		dictionary.secure = {protocolVersion: 0x0303, ...(certificate ? {certificate} : {})};
	}
	let bytes = 0,
		firstCpu = -1;
	const request = new Request(dictionary);
	request.callback = function (message, value) {
		if (message === 4) {
			if (firstCpu < 0) {
				firstCpu = cpu();
				say("first byte");
			}
			bytes += this.read(ArrayBuffer, value).byteLength;
		} else if (message === 5) finish(bytes, firstCpu);
		else if (message < 0) say(`error ${message} after ${bytes} bytes`);
	};
}

function stage(name, bytes, body) {
	const startCpu = cpu(),
		startWall = Date.now();
	body();
	say(
		`stage ${name}: cpu ${(cpu() - startCpu).toFixed(6)} s, wall ${((Date.now() - startWall) / 1000).toFixed(3)} s, ${bytes} bytes`,
	);
}

function stagesProbe() {
	const total = Number(env("RMX_PROBE_BYTES"));
	const chunk = new Uint8Array(CHUNK);
	for (let i = 0; i < CHUNK; i++) chunk[i] = i & 0xff;
	chunk[0] = 0xe9; // the image magic that esp_ota_write checks in the first byte
	const each = body => {
		for (let at = 0; at < total; at += CHUNK) body(at + CHUNK <= total ? chunk : chunk.subarray(0, total - at));
	};
	stage("md5", total, () => {
		const md5 = createCryptDigest("MD5");
		each(piece => md5.write(piece));
		md5.close();
	});
	const flash = new LinFlash(native);
	const table = parsePartitionTable(String.fromArrayBuffer(new Resource("partitions.csv").slice(0)), flash.size);
	const device = new FlashDevice(flash, table, {...DEFAULT_EFUSE});
	const partition = new FlashUpdatePartition(device, 0, createCryptDigest);
	stage("flash", total, () => {
		partition.begin(0);
		each(piece => partition.write(piece));
		partition.abort();
	});
	stage("pieces", total, () => {
		// what the HTTP adapter allocates per piece: an ArrayBuffer read from the fragment and its view
		each(piece => new Uint8Array(new ArrayBuffer(piece.length)));
	});
	say("stages done");
}

const mode = env("RMX_PROBE_MODE");
say(`mode ${mode}`);
try {
	if (mode === "socket") socketProbe();
	else if (mode === "request") requestProbe();
	else if (mode === "stages") stagesProbe();
	else say(`unknown RMX_PROBE_MODE ${JSON.stringify(mode)}: socket, request or stages`);
} catch (error) {
	say(`error ${error}`);
}
