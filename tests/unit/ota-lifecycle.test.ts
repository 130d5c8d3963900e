/*
 * The OTA lifecycle (ota/lifecycle.ts): its transition table and guards, and the approval deriving busy,
 * refusals and `ota status` from it. Synchronous on the virtual clock.
 */
import assert from "node:assert/strict";
import {LifecycleError, OtaLifecycle, type OtaEvent, type OtaState, TRANSITIONS} from "../../ota/lifecycle";
import {jobFor, SimNode, V2} from "./support/sim-node";

const STATES: OtaState[] = [
	"idle",
	"offered",
	"approved",
	"held",
	"installing",
	"reboot-requested",
	"rebooting",
	"pending-verify",
];
const EVENTS: OtaEvent[] = [
	"offer",
	"ask",
	"approve",
	"lapse",
	"withdraw",
	"install",
	"hold",
	"release",
	"expire",
	"end",
	"installed",
	"request-reboot",
	"reboot",
	"confirm",
];

describe("OTA lifecycle transitions", () => {
	it("allows exactly the transitions of the table and throws for any other", () => {
		const expected: {[state: string]: {[event: string]: OtaState}} = {
			idle: {offer: "offered", ask: "idle"},
			offered: {offer: "offered", ask: "offered", approve: "approved", withdraw: "idle"},
			approved: {
				offer: "offered",
				ask: "approved",
				lapse: "offered",
				install: "installing",
				hold: "held",
				withdraw: "idle",
			},
			held: {release: "installing", expire: "idle"},
			installing: {end: "idle", installed: "rebooting", "request-reboot": "reboot-requested"},
			"reboot-requested": {reboot: "rebooting"},
			rebooting: {},
			"pending-verify": {confirm: "idle"},
		};
		assert.deepEqual(JSON.parse(JSON.stringify(TRANSITIONS)), expected);
		for (const state of STATES)
			for (const event of EVENTS) {
				const lifecycle = new OtaLifecycle(state);
				const target = expected[state][event];
				if (target) {
					assert.equal(lifecycle.fire(event), target, `${state} --${event}-->`);
					assert.equal(lifecycle.state, target);
				} else {
					assert.throws(() => lifecycle.fire(event), LifecycleError, `${state} --${event}--> must not exist`);
					assert.equal(lifecycle.state, state, "unchanged after a refused event");
				}
			}
	});

	it("derives busy and the refusals from the state", () => {
		const busy = STATES.filter(state => new OtaLifecycle(state).busy);
		assert.deepEqual(busy, ["held", "installing", "reboot-requested", "rebooting", "pending-verify"]);
		for (const state of STATES) {
			const refusal = new OtaLifecycle(state).refusal("start");
			assert.equal(refusal !== undefined, busy.includes(state), state);
		}
		assert.match(new OtaLifecycle("pending-verify").refusal("check")!, /not confirmed yet/);
		assert.match(new OtaLifecycle("held").refusal("check")!, /the application holds the approved update/);
		assert.match(new OtaLifecycle("reboot-requested").refusal("start")!, /waits for the application to reboot/);
	});

	it("the guard of a served job: approved installs only the approved job; a rolled-back version needs a person's ask", () => {
		const approved = new OtaLifecycle("approved");
		assert.equal(approved.served({matchesApproval: true, rolledBack: false}), "install");
		assert.equal(approved.served({matchesApproval: false, rolledBack: true}), "offer");
		const idle = new OtaLifecycle("idle");
		assert.equal(idle.served({matchesApproval: false, rolledBack: true}), "skip", "the node's own check");
		idle.fire("ask");
		assert.equal(idle.asked, true);
		assert.equal(idle.served({matchesApproval: false, rolledBack: true}), "offer", "answers the person");
		assert.equal(idle.asked, false, "consumed by the served job");
		assert.equal(idle.served({matchesApproval: false, rolledBack: true}), "skip");
		assert.equal(idle.served({matchesApproval: false, rolledBack: false}), "offer");
	});

	it("the tables are frozen (preloaded constants stay in flash on the device)", () => {
		assert.ok(Object.isFrozen(TRANSITIONS));
		for (const state of STATES) assert.ok(Object.isFrozen(TRANSITIONS[state]), state);
	});
});

describe("the approval walks the lifecycle (simulated node)", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("idle -> offered -> approved -> installing -> rebooting, then pending-verify -> idle after the reboot; status lines follow", () => {
		node = new SimNode();
		const seen: string[] = [];
		node.powerOn();
		node.firmware!.ota.lifecycle.onTransition((from, event, to) => seen.push(`${from} -${event}-> ${to}`));
		assert.deepEqual(node.command("status"), [
			"state: idle",
			"running: rainmaker-ota-xs 1.0.0 from ota_0",
			"offered: nothing",
			"approval: none pending",
			"last status: none",
		]);
		const job = jobFor(node, "job-1", V2, "2.0.0");
		node.http.serve(job.url, {body: V2, chunk: 4096, intervalMs: 100});
		node.job = job;
		node.command("check");
		node.until(() => node!.firmware!.ota.state === "offered", "offered");
		assert.equal(node.command("status")[3], "approval: waiting for the user ('ota start' or the app)");
		node.command("start");
		assert.equal(node.firmware!.ota.state, "approved");
		assert.equal(
			node.command("status")[3],
			"approval: given for job job-1, waiting for the cloud to serve it again",
		);
		node.until(() => (node!.firmware!.engine.progress?.received ?? 0) > 0, "download under way");
		const status = node.command("status");
		assert.equal(status[0], "state: installing");
		assert.equal(
			status[1],
			"running: rainmaker-ota-xs 1.0.0 from ota_0",
			"the old firmware runs during the download",
		);
		assert.equal(status[3], "approval: given for job job-1");
		assert.match(status[4], /^update: job job-1, attempt 1, \d+ of 150336 bytes \(\d+%\)$/);
		assert.deepEqual(node.command("check"), ["Error: 'check' refused: an OTA update is in progress."]);
		node.until(() => node!.firmware!.ota.state === "rebooting", "installed");
		assert.match(node.command("start")[0], /refused: the new firmware is installed; the node is rebooting into it/);
		assert.deepEqual(seen, [
			"idle -ask-> idle",
			"idle -offer-> offered",
			"offered -approve-> approved",
			"approved -ask-> approved",
			"approved -install-> installing",
			"installing -installed-> rebooting",
		]);
		node.powerOff();
		node.broker.reachable = false;
		node.powerOn();
		assert.equal(node.firmware!.ota.state, "pending-verify");
		assert.equal(
			node.command("status")[1],
			"running: rainmaker-ota-xs 2.0.0 from ota_1, new: confirmed on its first MQTT connection, else rolled back",
		);
		node.broker.reachable = true;
		node.until(() => node!.firmware!.ota.state === "idle", "confirmed");
		assert.equal(node.command("status")[1], "running: rainmaker-ota-xs 2.0.0 from ota_1");
	});

	it("an approval that the cloud does not answer lapses back to offered", () => {
		node = new SimNode();
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-2", V2, "2.0.0"));
		node.job = undefined; // the cloud stops serving it before the node fetches again
		assert.equal(node.firmware!.ota.state, "approved");
		node.until(() => node!.firmware!.ota.state === "offered", "the lapse", 700_000, 10_000);
		assert.ok(
			node.log.messages("warn").some(line => /Approval of job job-2 \(version 2\.0\.0\) lapsed/.test(line)),
		);
	});
});
