/*
 * The OTA lifecycle: one state and its transitions, in one table (docs/ota-lifecycle.md draws it).
 * Like Moddable's http.js keeps one `state` per request and esp-rainmaker one esp_rmaker_ota_t per
 * node, the node has exactly one place that says where an update stands; `busy`, the refusals of
 * check/start and `ota status` are derived from it. The lifecycle carries out no effects: the
 * controller (approval.ts) fires events and the approval, update engine and rollback guard act.
 *
 *   idle ──offer──▶ offered ──approve──▶ approved ──install──▶ installing ──installed──▶ rebooting
 *     ▲               │  ▲                  │  (lapse / offer)       │ end (failed, rejected)
 *     └──withdraw─────┘  └──────────────────┘                        ▼
 *     ▲                                                             idle
 *     └──confirm── pending-verify (the first boot of a new image)
 */

export type OtaState = "idle" | "offered" | "approved" | "installing" | "rebooting" | "pending-verify";

export type OtaEvent =
	/** A job was served and is shown in Info, waiting for approval. */
	| "offer"
	/** The user approved the shown offer (bound to its job id, version, size, MD5). */
	| "approve"
	/** The approval lapsed without the cloud serving the job. */
	| "lapse"
	/** The offer was dropped (Info cleared): a time-window refusal, a store failure, the cloud cancelled the job. */
	| "withdraw"
	/** The approved job was served again: the engine starts. */
	| "install"
	/** The job ended without a new image (failed or rejected). */
	| "end"
	/** The new image is selected; the node reboots into it. */
	| "installed"
	/** The new image was marked valid on its first MQTT connection. */
	| "confirm";

type Table = {readonly [S in OtaState]: {readonly [E in OtaEvent]?: OtaState}};

/** Every allowed transition; an event not listed for a state is a programming error (LifecycleError). */
export const TRANSITIONS: Table = Object.freeze({
	idle: Object.freeze({offer: "offered"}),
	offered: Object.freeze({offer: "offered", approve: "approved", withdraw: "idle"}),
	approved: Object.freeze({offer: "offered", lapse: "offered", install: "installing", withdraw: "idle"}),
	installing: Object.freeze({end: "idle", installed: "rebooting"}),
	rebooting: Object.freeze({}),
	"pending-verify": Object.freeze({confirm: "idle"}),
} as const);

export class LifecycleError extends Error {
	override name = "LifecycleError";
}

export class OtaLifecycle {
	#state: OtaState;
	#listener: ((from: OtaState, event: OtaEvent, to: OtaState) => void) | undefined;

	constructor(initial: OtaState) {
		this.#state = initial;
	}

	get state(): OtaState {
		return this.#state;
	}

	/** An update runs or the new image is not confirmed yet: no check, no start, otaurl dropped. */
	get busy(): boolean {
		const state = this.#state;
		return state === "installing" || state === "rebooting" || state === "pending-verify";
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
		this.#listener?.(from, event, to);
		return to;
	}

	/** Why `command` (check or start) is refused now, or undefined. */
	refusal(command: string): string | undefined {
		switch (this.#state) {
			case "pending-verify":
				return `'${command}' refused: the new firmware is not confirmed yet (it is on its first MQTT connection).`;
			case "installing":
				return `'${command}' refused: an OTA update is in progress.`;
			case "rebooting":
				return `'${command}' refused: the new firmware is installed; the node is rebooting into it.`;
			default:
				return undefined;
		}
	}
}
