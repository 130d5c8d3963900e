/*
 * The OTA lifecycle: one state and its transitions, in one table (docs/ota-lifecycle.md draws it),
 * and the documented guards that choose between transitions. Like Moddable's http.js keeps one
 * `state` per request and esp-rainmaker one esp_rmaker_ota_t per node, the node has exactly one
 * place that says where an update stands; `busy`, the refusals of check/start and `ota status` are
 * derived from it. The lifecycle carries out no effects: the approval (approval.ts) fires events
 * and the approval, update engine and rollback guard act.
 *
 *   idle ──offer──▶ offered ──approve──▶ approved ──install──▶ installing ──installed──▶ rebooting
 *     ▲               │  ▲                  │  │                  │   │
 *     └──withdraw─────┘  └──(lapse/offer)───┘  hold               │   └─request-reboot─▶ reboot-requested ─reboot─▶ rebooting
 *     ▲                                        ▼                  │ end (failed, rejected)
 *     │                                      held ──release──▶ installing; held ──expire──▶ idle
 *     └──confirm── pending-verify (the first boot of a new image)
 */

export type OtaState =
	"idle" | "offered" | "approved" | "held" | "installing" | "reboot-requested" | "rebooting" | "pending-verify";

export type OtaEvent =
	/** A job was served and is shown in Info, waiting for approval. */
	| "offer"
	/** A person asked (check, or start of the shown offer): the next served job answers them (guard `served`). */
	| "ask"
	/** The user approved the shown offer (bound to its job id, version, size, MD5). */
	| "approve"
	/** The approval lapsed without the cloud serving the job. */
	| "lapse"
	/** The offer was dropped (Info cleared): a time-window refusal, a store failure, the cloud cancelled the job. */
	| "withdraw"
	/** The approved job was served again and no application callback holds it: the engine starts. */
	| "install"
	/** The approved job was served again and an application callback held it (its STARTING event). */
	| "hold"
	/** Every hold was released: the engine starts. */
	| "release"
	/** A hold outlived holdTimeoutSeconds: the job ends `failed`. */
	| "expire"
	/** The job ended without a new image (failed or rejected). */
	| "end"
	/** The new image is selected; the node reboots into it after rebootDelaySeconds (autoReboot). */
	| "installed"
	/** The new image is selected; the node waits for the application to reboot (autoReboot off). */
	| "request-reboot"
	/** The application asked for the reboot into the new image. */
	| "reboot"
	/** The new image was marked valid on its first MQTT connection. */
	| "confirm";

type Table = {readonly [S in OtaState]: {readonly [E in OtaEvent]?: OtaState}};

/** Every allowed transition; an event not listed for a state is a programming error (LifecycleError). */
export const TRANSITIONS: Table = Object.freeze({
	idle: Object.freeze({offer: "offered", ask: "idle"}),
	offered: Object.freeze({offer: "offered", ask: "offered", approve: "approved", withdraw: "idle"}),
	approved: Object.freeze({
		offer: "offered",
		ask: "approved",
		lapse: "offered",
		install: "installing",
		hold: "held",
		withdraw: "idle",
	}),
	held: Object.freeze({release: "installing", expire: "idle"}),
	installing: Object.freeze({end: "idle", installed: "rebooting", "request-reboot": "reboot-requested"}),
	"reboot-requested": Object.freeze({reboot: "rebooting"}),
	rebooting: Object.freeze({}),
	"pending-verify": Object.freeze({confirm: "idle"}),
} as const);

/** States in which an update runs or waits to finish: no check, no start, otaurl dropped. */
const BUSY: ReadonlyArray<OtaState> = Object.freeze([
	"held",
	"installing",
	"reboot-requested",
	"rebooting",
	"pending-verify",
]);

/** What the facts of a served job are, for the guard `served`. */
export interface ServedFacts {
	/** The job is exactly the approved one (job id, version, and size and MD5 when the offer had them). */
	readonly matchesApproval: boolean;
	/** The job's version is the one rolled back last. */
	readonly rolledBack: boolean;
}

/**
 * What a served job leads to: `install` (the approved job; the STARTING event then decides between
 * `install` and `hold`), `offer` (shown for approval), or `skip` (a rolled-back version on the
 * node's own check: not offered).
 */
export type ServedDecision = "install" | "offer" | "skip";

export class LifecycleError extends Error {
	override name = "LifecycleError";
}

export class OtaLifecycle {
	#state: OtaState;
	/** Set by `ask`, consumed by the next `served`: the served job answers a person (part of the lifecycle state). */
	#asked = false;
	#listener: ((from: OtaState, event: OtaEvent, to: OtaState) => void) | undefined;

	constructor(initial: OtaState) {
		this.#state = initial;
	}

	get state(): OtaState {
		return this.#state;
	}

	/** The next served job answers a person's check or start. */
	get asked(): boolean {
		return this.#asked;
	}

	/** An update runs, waits for the application, or the new image is not confirmed yet: no check, no start, otaurl dropped. */
	get busy(): boolean {
		return BUSY.includes(this.#state);
	}

	/** Called after every transition (logs, tests). */
	onTransition(listener: (from: OtaState, event: OtaEvent, to: OtaState) => void): void {
		this.#listener = listener;
	}

	can(event: OtaEvent): boolean {
		return TRANSITIONS[this.#state][event] !== undefined;
	}

	/** Moves to the event's target state; throws LifecycleError for a transition the table lacks. */
	fire(event: OtaEvent): OtaState {
		const from = this.#state;
		const to = TRANSITIONS[from][event];
		if (to === undefined) throw new LifecycleError(`OTA lifecycle: no transition "${event}" from "${from}"`);
		this.#state = to;
		if (event === "ask") this.#asked = true;
		this.#listener?.(from, event, to);
		return to;
	}

	/**
	 * Guard of a served job (docs/ota-lifecycle.md, "Guards"). Consumes `asked`. In `approved` the
	 * approved job installs and any other job is offered (it answers the person's start). Otherwise a
	 * job of the version rolled back last is offered only when a person asked (the loop breaker: the
	 * node's own checks never offer it again); every other job is offered.
	 */
	served(facts: ServedFacts): ServedDecision {
		const asked = this.#asked;
		this.#asked = false;
		if (this.#state === "approved") return facts.matchesApproval ? "install" : "offer";
		return facts.rolledBack && !asked ? "skip" : "offer";
	}

	/** Why `command` (check or start) is refused now, or undefined. */
	refusal(command: string): string | undefined {
		switch (this.#state) {
			case "pending-verify":
				return `'${command}' refused: the new firmware is not confirmed yet (it is on its first MQTT connection).`;
			case "held":
				return `'${command}' refused: the application holds the approved update before its download.`;
			case "installing":
				return `'${command}' refused: an OTA update is in progress.`;
			case "reboot-requested":
				return `'${command}' refused: the new firmware is installed; the node waits for the application to reboot into it.`;
			case "rebooting":
				return `'${command}' refused: the new firmware is installed; the node is rebooting into it.`;
			default:
				return undefined;
		}
	}
}
