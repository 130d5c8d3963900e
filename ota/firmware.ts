/*
 * The node firmware, composed from its parts: the RainMaker agent, the user-approval OTA service,
 * the update engine, the post-update confirm/rollback guard and the console commands. Platform
 * neutral: main.ts (Moddable) and the host simulator call startFirmware with their own adapters.
 */
import type {KeyValueStore, Log, MqttSession, Timers} from "../rainmaker/ports";
import type {TopicForm} from "../rainmaker/topics";
import type {BootControl, DigestFactory, HttpClient, UpdatePartition} from "./ports";
import type {OtaOptions} from "./options";

export interface FirmwarePorts {
	readonly session: MqttSession;
	readonly timers: Timers;
	readonly log: Log;
	/** The `rmaker_ota` namespace (keys of at most 15 characters). */
	readonly store: KeyValueStore;
	readonly http: HttpClient;
	readonly partition: UpdatePartition;
	readonly boot: BootControl;
	readonly createDigest: DigestFactory;
}

export interface FirmwareConfig {
	readonly nodeId: string;
	/** info.name of the node config (default "RainMaker OTA node"). */
	readonly nodeName?: string;
	/** info.type of the node config (default "esp.node.ota"). */
	readonly nodeType?: string;
	/** info.platform, the IDF target (default "esp32"). */
	readonly platform?: string;
	/** Publish topic form (default "plain"; see rainmaker/topics.ts). */
	readonly topicForm?: TopicForm;
	readonly ota?: Partial<OtaOptions>;
}

/** What the console needs; the shape of Moddable's CLI handlers (command word lower-case, the rest as parts). */
export interface CommandSink {
	(line: string): void;
}

export interface Firmware {
	/**
	 * Runs a console command. Returns true when it handled it. For "help" it prints its own help
	 * lines and returns false, as Moddable's CLI.distribute expects.
	 */
	command(name: string, args: readonly string[], print: CommandSink): boolean;
	stop(): void;
}
