/*
 * The node firmware, composed from its parts: the RainMaker agent, the user-approval OTA service,
 * the update engine, the post-update confirm/rollback guard and the console commands. Platform
 * neutral: main.ts (Moddable) and the host simulator call startFirmware with their own adapters.
 */
import {NodeAgent} from "../rainmaker/agent";
import {NodeApplication} from "../rainmaker/application";
import {Node} from "../rainmaker/model";
import type {KeyValueStore, Log, MqttSession, TimerHandle, Timers} from "../rainmaker/ports";
import {SUFFIX_OTA_URL, type TopicForm} from "../rainmaker/topics";
import {Approval, type CommandResult} from "./approval";
import {OTA_HELP, otaCommand} from "./console";
import {OtaEvents, type OtaEventListener} from "./events";
import {OtaFetcher} from "./fetcher";
import {type AppImageInfo, chipName, parseImageHeader} from "./image";
import {OtaJournal} from "./journal";
import {type OtaOptions, resolveOtaOptions} from "./options";
import {createOtaService} from "./ota-service";
import type {BootControl, DigestFactory, HttpClient, UpdatePartition} from "./ports";
import {StatusReporter} from "./reporter";
import type {RollbackClock} from "./rollback-clock";
import {RollbackGuard} from "./rollback-guard";
import {type Installer, UpdateEngine} from "./update-engine";

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
	/**
	 * The new image's confirm-or-roll-back clock, started when the app started, before the network
	 * (device/rollback-clock.ts, host/sim/boot.ts). Without it the clock starts here.
	 */
	readonly rollbackClock?: RollbackClock;
	/** Where the application's `persist` params are kept (docs/product.md); without it they are not kept across reboots. */
	readonly paramStore?: KeyValueStore;
}

/** What the application gets (docs/product.md). */
export interface Application {
	/** Its devices and params: createDevice, addParam, onWrite, update (rainmaker/application.ts). */
	readonly node: NodeApplication;
	/** The OTA events (ota/events.ts): starting (may hold), in-progress, successful, failed, rejected, delayed, reboot-requested. */
	onOtaEvent(listener: OtaEventListener): void;
	/** Reboots into the installed firmware when autoReboot is off (state reboot-requested); refused otherwise. */
	reboot(): CommandResult;
}

/** A product: adds its devices and listeners once, before the node connects. */
export type Product = (app: Application) => void;

export interface FirmwareConfig {
	readonly nodeId: string;
	/** info.name of the node config (default "RainMaker OTA node"). */
	readonly nodeName?: string;
	/** info.type of the node config (default "esp.node.ota"). */
	readonly nodeType?: string;
	/** info.platform, the IDF target (default: what BootControl.platform says, else the running image's chip). */
	readonly platform?: string;
	/** Publish topic form (default "plain"; see rainmaker/topics.ts). */
	readonly topicForm?: TopicForm;
	readonly ota?: Partial<OtaOptions>;
	/** The defaults `ota` is merged over (default: the device's; the host simulator passes hostOtaOptions). */
	readonly otaDefaults?: Readonly<OtaOptions>;
	/** The product built on the node (docs/product.md); without it the node has only the OTA service. */
	readonly product?: Product;
}

export interface Firmware {
	readonly agent: NodeAgent;
	readonly ota: Approval;
	/** The application API the product got. */
	readonly app: Application;
	readonly reporter: StatusReporter;
	readonly fetcher: OtaFetcher;
	readonly guard: RollbackGuard;
	readonly engine: Installer;
	readonly journal: OtaJournal;
	/** The running image's facts (fw_version and project_name of the node come from them). */
	readonly running: AppImageInfo;
	/** The partition the running image was booted from, when the platform tells (BootControl.runningSlot). */
	readonly runningSlot: string | undefined;
	readonly options: OtaOptions;
	/**
	 * Runs a console command. Returns true when it handled it. For "help" it prints its own help
	 * lines and returns false, as Moddable's CLI.distribute expects.
	 */
	command(name: string, args: readonly string[], print: (line: string) => void): boolean;
	stop(): void;
}

export const DEFAULT_NODE_NAME = "RainMaker OTA node";
export const DEFAULT_NODE_TYPE = "esp.node.ota";
const HOUR_MS = 3600 * 1000;

/**
 * Builds the node and starts it: connects, reports the config and params, confirms or rolls back a
 * new image, and checks for updates as the options say. Throws OptionError for a bad option and an
 * Error when the running image cannot be read (nothing is started then). `installer` replaces the
 * update engine (tests of the approval flow use a recording double).
 */
export function startFirmware(ports: FirmwarePorts, config: FirmwareConfig, installer?: Installer): Firmware {
	const options = resolveOtaOptions(config.ota, config.otaDefaults);
	const {session, timers, log, store, http, partition, boot, createDigest} = ports;
	const running = parseImageHeader(boot.runningHeader());
	const node = new Node(config.nodeId, {
		name: config.nodeName ?? DEFAULT_NODE_NAME,
		fw_version: running.version,
		type: config.nodeType ?? DEFAULT_NODE_TYPE,
		project_name: running.projectName,
		platform: config.platform ?? boot.platform ?? chipName(running.chipId),
	});
	const service = node.addDevice(createOtaService());
	const agent = new NodeAgent({node, session, log, topicForm: config.topicForm});
	const journal = new OtaJournal(store, log);
	const reporter = new StatusReporter(agent, timers, log, journal);
	const fetcher = new OtaFetcher(agent, timers, log, node.id, running.version);
	const guard = new RollbackGuard({
		boot,
		journal,
		timers,
		log,
		reporter,
		rollbackWaitSeconds: options.rollbackWaitSeconds,
		clock: ports.rollbackClock,
	});
	const engine =
		installer ??
		new UpdateEngine({
			http,
			timers,
			log,
			journal,
			partition,
			boot,
			createDigest,
			reporter,
			options,
			running,
			stream: {link: agent, nodeId: node.id},
		});
	const events = new OtaEvents(log);
	reporter.onReport(report => events.reported(report));
	const ota = new Approval({
		params: agent,
		fetcher,
		engine,
		guard,
		reporter,
		timers,
		log,
		options,
		events,
		restart: () => boot.restart(),
	});
	service.onWrite = writes => ota.onOperationWrite(writes);
	const app: Application = {
		node: new NodeApplication(node, agent, log, ports.paramStore),
		onOtaEvent: listener => events.on(listener),
		reboot: () => ota.reboot(),
	};
	// the product's devices join the config before the first connection reports it
	config.product?.(app);

	let periodic: TimerHandle | undefined;
	const armPeriodicCheck = () => {
		periodic = timers.set(() => {
			ota.autoCheck(0);
			armPeriodicCheck();
		}, options.autofetchPeriodHours * HOUR_MS);
	};
	agent.onConnected(() => {
		if (ota.connected())
			// the reference fetches 5 s after confirming a new image
			fetcher.fetchWithDelay(options.startupFetchDelaySeconds);
		reporter.resend();
	});
	agent.onStarted(() => {
		guard.reportBootFinding();
		agent.subscribe(SUFFIX_OTA_URL, payload => ota.onOtaUrl(payload));
		if (options.autofetch) ota.autoCheck(options.startupFetchDelaySeconds);
		if (options.autofetchPeriodHours > 0) armPeriodicCheck();
	});
	log.info(`${running.projectName} ${running.version} starting as node ${node.id}`);
	agent.start();

	const firmware: Firmware = {
		agent,
		ota,
		app,
		reporter,
		fetcher,
		guard,
		engine,
		journal,
		running,
		runningSlot: boot.runningSlot?.(),
		options,
		command(name, args, print) {
			if (name === "ota") return (otaCommand(firmware, args, print), true);
			if (name === "help") OTA_HELP.forEach(line => print(line));
			return false;
		},
		stop() {
			timers.clear(periodic);
			periodic = undefined;
			fetcher.stop();
			ota.stop(); // the download, the reboot timer, the approval and rollback timers
			agent.stop();
		},
	};
	return firmware;
}
