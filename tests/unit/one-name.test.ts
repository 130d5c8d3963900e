/*
 * One name per concept across host and firmware (issue 22 item 3): one reader of a node's Info for
 * the approval client and the web page, the firmware's OtaStatus used by the cloud, one error for a
 * client's failed REST call, and the job types named for what they are (docs/web-app.md "How it is
 * built"; docs/protocol.md §2.1).
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {join, relative} from "node:path";
import {fileURLToPath} from "node:url";
import {RainMakerApiError} from "../../host/client/api";
import {findOtaNames, FAQ_OTA_NAMES, readOffer} from "../../host/client/ota-reading";
import {readOffer as clientReadOffer} from "../../host/client/ota-service";
import {JobStore, otaStatuses} from "../../host/cloud/jobs";
import {offerInfo} from "../../ota/ota-service";
import {statusPayload, type OtaStatus} from "../../ota/status";
import {sources} from "../support/import-graph";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The files (relative to the repository) that declare `name` as a type, interface, class or function. */
function declarations(name: string): string[] {
	const files = ["rainmaker", "ota", "device", "idf", "host", "bench", "scripts", "tests"]
		.flatMap(dir => sources(join(ROOT, dir)))
		.concat(join(ROOT, "main.ts"));
	// `type X = …`, `interface X`, `class X`, `function X(` (not `type X,` in an import list).
	const pattern = new RegExp(
		`^\\s*(?:export\\s+)?(?:declare\\s+)?(?:type\\s+${name}\\s*(?:<[^>]*>)?\\s*=|(?:interface|class)\\s+${name}\\b|function\\s+${name}\\s*[(<])`,
		"m",
	);
	return files.filter(file => pattern.test(readFileSync(file, "utf8"))).map(file => relative(ROOT, file));
}

describe("one name per concept", () => {
	it("declares each shared concept once, where both sides can use it", () => {
		assert.deepEqual(
			Object.fromEntries(
				["readOffer", "OtaOffer", "OtaStatus", "OtaJob", "CloudOtaJob", "ApiError", "RainMakerApiError"].map(
					name => [name, declarations(name)],
				),
			),
			{
				readOffer: ["host/client/ota-reading.ts"],
				OtaOffer: ["host/client/ota-reading.ts"],
				OtaStatus: ["ota/status.ts"],
				OtaJob: ["ota/otaurl.ts"],
				CloudOtaJob: ["host/cloud/jobs.ts"],
				ApiError: ["host/cloud/http-json.ts"],
				RainMakerApiError: ["host/client/api-error.ts"],
			},
		);
	});

	it("the web page's shared modules import nothing of Node (they are bundled for the browser)", () => {
		for (const file of ["host/client/ota-reading.ts", "host/client/api-error.ts"]) {
			const text = readFileSync(join(ROOT, file), "utf8");
			assert.doesNotMatch(text, /^\s*import\b/m, `${file} imports something`);
		}
		const web = sources(join(ROOT, "host/web/app"));
		assert.ok(
			web.some(file => /from "\.\.\/\.\.\/client\/ota-reading"/.test(readFileSync(file, "utf8"))),
			"the web page reads Info with host/client/ota-reading.ts",
		);
	});
});

describe("readOffer: the one reader of a node's Info (approval client and web page)", () => {
	const names = FAQ_OTA_NAMES;
	const params = (info: unknown) => ({[names.service]: {[names.operation]: "", [names.info]: info}});

	it("reads what the firmware writes (ota/ota-service.ts offerInfo), as an object or as the same JSON string", () => {
		const info = offerInfo({jobId: "job_1", fwVersion: "2.0.0", fileSize: 393_552});
		const expected = {jobId: "job_1", fwVersion: "2.0.0", fileSize: 393_552};
		assert.deepEqual(readOffer(params(info), names), {info, ...expected});
		const text = JSON.stringify(info);
		assert.deepEqual(readOffer(params(text), names), {info: text, ...expected});
		const unsized = offerInfo({jobId: "job_2", fileSize: 0});
		assert.deepEqual(readOffer(params(unsized), names), {info: unsized, jobId: "job_2"});
	});

	it("the approval client uses the same function", () => {
		assert.equal(clientReadOffer, readOffer);
	});

	it('no offer: an empty Info, the FAQ\'s initial "{}", a text that is not JSON, an empty job id, no Info at all', () => {
		for (const info of [{}, "{}", "not json", {job_id: ""}, {job_id: 7}, undefined]) {
			const offer = readOffer(params(info), names);
			assert.equal(offer.jobId, undefined, JSON.stringify(info));
			assert.deepEqual(offer.info, info);
		}
		assert.deepEqual(readOffer(undefined, names), {info: undefined});
	});

	it("keeps only a byte count as the size", () => {
		assert.equal(readOffer(params({job_id: "j", file_size: -1}), names).fileSize, undefined);
		assert.equal(readOffer(params({job_id: "j", file_size: 1.5}), names).fileSize, undefined);
		assert.equal(readOffer(params({job_id: "j", file_size: "10"}), names).fileSize, undefined);
	});

	it("reads under the names the node config gives by type", () => {
		const config = {
			services: [
				{
					name: "Updates",
					type: "esp.service.ota",
					params: [
						{name: "Do", type: "esp.param.ota_operation"},
						{name: "Offer", type: "esp.param.ota_info"},
					],
				},
			],
		};
		const found = findOtaNames(config)!;
		assert.deepEqual(found, {service: "Updates", operation: "Do", info: "Offer"});
		assert.equal(readOffer({Updates: {Offer: {job_id: "job_9"}}}, found).jobId, "job_9");
		assert.equal(readOffer({OTA: {Info: {job_id: "job_9"}}}, found).jobId, undefined);
	});
});

describe("OtaStatus: the firmware's statuses are the ones the cloud records", () => {
	it("each status the firmware's payload builder sends becomes the job's state in the cloud", () => {
		const statuses: OtaStatus[] = ["in-progress", "success", "failed", "delayed", "rejected"];
		assert.deepEqual([...otaStatuses].sort(), [...statuses].sort());
		for (const status of statuses) {
			const store = new JobStore(() => 1_000_000, false);
			const job = store.create({imageId: "img", nodes: ["n1"]});
			store.report("n1", statusPayload(job.id, status, "text", 1));
			assert.equal(store.state("n1", job.id)?.status, status);
		}
		const store = new JobStore(() => 1_000_000, false);
		const job = store.create({imageId: "img", nodes: ["n1"]});
		store.report("n1", JSON.stringify({ota_job_id: job.id, status: "queued", additional_info: ""}));
		assert.equal(
			store.state("n1", job.id)?.status,
			"triggered",
			"a status the firmware never sends changes nothing",
		);
	});
});

describe("RainMakerApiError: a client's failed call (the approval client and the web page)", () => {
	it("keeps the cloud's description apart from the call it answered", () => {
		const error = new RainMakerApiError(
			401,
			"Unauthorized: the session has ended; log in again",
			"GET",
			"user/nodes",
		);
		assert.equal(error.description, "Unauthorized: the session has ended; log in again");
		assert.equal(error.message, "GET user/nodes: HTTP 401: Unauthorized: the session has ended; log in again");
		assert.equal(new RainMakerApiError(0, "cannot reach", "GET", "x").message, "GET x: cannot reach");
	});
});
