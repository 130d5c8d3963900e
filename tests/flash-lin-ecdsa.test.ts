/*
 * The EC P-256 CertificateVerify signature on the Moddable runtime (device/tls/ecdsa-certificate-
 * verify.ts signP256, the SDK's ECDSA): tools/ecdsa-sign-check, built for lin and run in mcsim,
 * signs SHA-256 digests with a key made here; node:crypto verifies every DER signature against the
 * key's public half, and rejects it for another message. Only when MODDABLE points at a Moddable
 * SDK built for Linux (the signer needs the SDK's native ec/mont arithmetic); the time per sign it
 * prints is reported in docs/device.md section 3, not asserted.
 */
import {strict as assert} from "node:assert";
import {spawn, spawnSync} from "node:child_process";
import {generateKeyPairSync, verify} from "node:crypto";
import {existsSync} from "node:fs";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {mcsimCommand} from "../host/sim/lin";

describe("ECDSA P-256 signatures of the lin build (needs the Moddable SDK)", function () {
	const root = process.env.MODDABLE;
	before(function () {
		if (!root || !existsSync(join(root, "build", "bin", "lin", "release", "mcconfig"))) {
			console.log("      skipped: MODDABLE does not point at a Moddable SDK built for Linux (docs/device.md)");
			this.skip();
		}
	});

	it("signs SHA-256 digests with the SDK's ECDSA as node:crypto verifies them (DER ECDSA-Sig-Value)", async function () {
		this.timeout(30 * 60_000);
		const tool = fileURLToPath(new URL("../tools/ecdsa-sign-check/", import.meta.url));
		const {privateKey, publicKey} = generateKeyPairSync("ec", {namedCurve: "P-256"});
		const keyHex = privateKey.export({type: "pkcs8", format: "der"}).toString("hex");
		const env = {
			...process.env,
			PATH: [
				join(tool, "..", "..", "node_modules", ".bin"),
				process.env.PATH,
				join(root!, "build", "bin", "lin", "release"),
			].join(":"),
		};
		const build = spawnSync(
			join(root!, "build", "bin", "lin", "release", "mcconfig"),
			["-m", "-p", "lin", "-t", "build", `keyHex=${keyHex}`, "count=5"],
			{cwd: tool, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024},
		);
		assert.equal(build.status, 0, `${build.stdout}${build.stderr}`.split("\n").slice(-30).join("\n"));
		const mc = join(root!, "build", "bin", "lin", "mc", "release", "ecdsa-sign-check", "mc.so");
		const command = mcsimCommand(root!, mc);
		const child = spawn(command[0], command.slice(1), {stdio: ["ignore", "pipe", "pipe"], detached: true});
		const lines: string[] = [];
		try {
			await new Promise<void>((done, fail) => {
				let buffered = "";
				const take = (data: Buffer) => {
					buffered += data.toString();
					const parts = buffered.split("\n");
					buffered = parts.pop()!;
					lines.push(...parts);
					if (parts.some(line => line.startsWith("done:"))) done();
				};
				child.stdout!.on("data", take);
				child.stderr!.on("data", take);
				child.on("exit", code => fail(new Error(`mcsim exited (${code}) before "done":\n${lines.join("\n")}`)));
			});
		} finally {
			try {
				process.kill(-child.pid!, "SIGTERM");
			} catch {
				child.kill("SIGTERM");
			}
		}
		const signs = lines
			.map(line => /^sign ([0-9a-f]+) ([0-9a-f]+) (\d+)$/.exec(line))
			.filter(match => match !== null);
		assert.equal(signs.length, 5, lines.join("\n"));
		for (const [, message, signature] of signs) {
			const sig = Buffer.from(signature, "hex");
			assert.equal(sig[0], 0x30, "a DER SEQUENCE");
			assert.ok(
				verify("sha256", Buffer.from(message, "hex"), {key: publicKey, dsaEncoding: "der"}, sig),
				`signature of ${message} verifies`,
			);
			assert.ok(
				!verify("sha256", Buffer.from(message + "00", "hex"), {key: publicKey, dsaEncoding: "der"}, sig),
				"not for another message",
			);
		}
		assert.equal(new Set(signs.map(match => match[2])).size, 5, "a fresh nonce per signature");
		console.log(`      ${lines.find(line => line.startsWith("done:"))} (mcsim on this machine)`);
	});
});
