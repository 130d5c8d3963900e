/*
 * `rainmaker-ota-xs app`: the phone app's role in the user-approval OTA flow (docs/protocol.md §2.1) as a
 * command: show the node's offer (Info) and the job's status, watch them, ask the node to check,
 * and approve (write `start`, keep the job id, follow `user/nodes/ota_status` to a final state).
 * It logs in as Espressif's clients do (`login` with a user name and password, the session kept
 * and renewed, session.ts), so it works against the real RainMaker cloud too.
 */
import {parseArgs} from "node:util";
import {DEFAULT_REST_BASE_URL} from "../cloud/defaults";
import {RainMakerApi, RainMakerApiError, type JsonObject, type OtaStatusResponse} from "./api";
import {followOtaJob, formatStatus, realClock, type Clock, type FollowOutcome} from "./follow";
import {fetchOtaServiceNames, otaServiceNames, readOffer, sendOperation} from "./ota-service";
import {ClientSession, jwtClaims, sessionFrom} from "./session";
import {AppState, defaultStatePath} from "./state";

export const appUsage = `usage: rainmaker-ota-xs app <command> [--node <id>] [options]
commands:
  login       log in (POST login2) with --user and --password; the tokens are kept in the state
              file and the access token is renewed with the refresh token when it expires
  logout      end the session (POST logout2) and forget its tokens
  nodes       list the user's nodes (GET user/nodes): id, online, firmware version, OTA Info
  show        the node's OTA Info and the status of its job (the offered or the remembered one)
  watch       the same, refreshed until the job reaches a final state (or Ctrl-C)
  check       ask the node to check for an update (Operation "check")
  approve     approve the offered update (Operation "start"), remember its job id and follow
              its status until success (exit 0), rejected/failed (exit 1) or the timeout (exit 1)
options:
  --node <id>               node id (required by show, watch, check, approve)
  --job <id>                approve: only this job (the one "show" printed); another offer is refused
  --base-url <url>          REST base URL (default ${DEFAULT_REST_BASE_URL}; login keeps it)
  --user <email>            login: the user name
  --password <secret>       login: the password (or the environment variable RAINMAKER_PASSWORD)
  --token <token>           an access token to use instead of the login session
  --state-file <file>       login session and approved job ids (default ${defaultStatePath()})
  --timeout <s>             approve/watch: give up after this many seconds (default 600)
  --poll-interval <s>       seconds between status polls (default 1)
  --failed-grace <s>        a "failed" status is final when nothing newer arrives within this time (default 30)
  -h, --help`;

export interface AppIo {
	out(line: string): void;
	err(line: string): void;
	/** Stops watch/approve (Ctrl-C does the same). */
	signal?: AbortSignal;
	clock?: Clock;
}

const consoleIo: AppIo = {out: line => console.log(line), err: line => console.error(line)};

class UsageError extends Error {}

/** A failure while reading the arguments that is not about their form (a damaged state file): exit 1, no usage. */
class SetupError extends Error {}

function storedSession(state: AppState) {
	try {
		return state.session();
	} catch (error) {
		throw new SetupError((error as Error).message);
	}
}

type Command = "login" | "logout" | "nodes" | "show" | "watch" | "check" | "approve";
const commands: readonly Command[] = ["login", "logout", "nodes", "show", "watch", "check", "approve"];

interface Settings {
	command: Command;
	userName?: string;
	password?: string;
	nodeId: string;
	/** approve: the job the user saw; undefined = the one offered now. */
	jobId?: string;
	api: RainMakerApi;
	state: AppState;
	timeoutMs: number;
	pollIntervalMs: number;
	failedGraceMs: number;
}

function seconds(value: string | undefined, name: string, fallback: number): number {
	if (value === undefined) return fallback * 1000;
	const number = Number(value);
	if (value.trim() === "" || !Number.isFinite(number) || number < 0)
		throw new UsageError(`--${name}: "${value}" is not a number of seconds`);
	return number * 1000;
}

function parse(argv: string[]): Settings | "help" {
	const {values, positionals} = parseArgs({
		args: argv,
		strict: true,
		allowPositionals: true,
		options: {
			node: {type: "string"},
			job: {type: "string"},
			"base-url": {type: "string"},
			token: {type: "string"},
			user: {type: "string"},
			password: {type: "string"},
			"state-file": {type: "string"},
			timeout: {type: "string"},
			"poll-interval": {type: "string"},
			"failed-grace": {type: "string"},
			help: {type: "boolean", short: "h"},
		},
	});
	if (values.help) return "help";
	if (positionals.length !== 1)
		throw new UsageError(
			positionals.length === 0 ? "a command is required" : `one command expected, got: ${positionals.join(" ")}`,
		);
	const command = positionals[0] as Command;
	if (!commands.includes(command)) throw new UsageError(`unknown command "${command}"`);
	const needsNode = command !== "login" && command !== "logout" && command !== "nodes";
	if (needsNode && (values.node === undefined || values.node === "")) throw new UsageError("--node <id> is required");
	const password = values.password ?? process.env.RAINMAKER_PASSWORD;
	if (
		command === "login" &&
		(values.user === undefined || values.user === "" || password === undefined || password === "")
	)
		throw new UsageError("login needs --user <email> and --password <secret> (or RAINMAKER_PASSWORD)");
	if (command !== "login" && (values.user !== undefined || values.password !== undefined))
		throw new UsageError("--user and --password are for the login command");
	const state = new AppState(values["state-file"] ?? defaultStatePath());
	// Without --base-url, a command uses the URL of the login session, and the default before any login.
	const baseUrl =
		values["base-url"] ??
		(command !== "login" ? storedSession(state)?.baseUrl : undefined) ??
		DEFAULT_REST_BASE_URL;
	try {
		const url = new URL(baseUrl);
		if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
	} catch {
		throw new UsageError(`--base-url: "${baseUrl}" is not an http(s) URL`);
	}
	const pollIntervalMs = seconds(values["poll-interval"], "poll-interval", 1);
	if (pollIntervalMs === 0) throw new UsageError("--poll-interval must be more than 0");
	let api: RainMakerApi;
	if (values.token !== undefined || command === "login") {
		api = new RainMakerApi({baseUrl, ...(values.token !== undefined ? {accessToken: values.token} : {})});
	} else {
		const stored = storedSession(state);
		if (stored && new URL(stored.baseUrl).href !== new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).href)
			throw new UsageError(`the login session is for ${stored.baseUrl}, not ${baseUrl}; log in there first`);
		const session = new ClientSession(state);
		api = new RainMakerApi({baseUrl, tokens: session});
		session.attach(api);
	}
	return {
		command,
		nodeId: values.node ?? "",
		...(values.job !== undefined ? {jobId: values.job} : {}),
		...(values.user !== undefined ? {userName: values.user} : {}),
		...(password !== undefined ? {password} : {}),
		api,
		state,
		timeoutMs: seconds(values.timeout, "timeout", 600),
		pollIntervalMs,
		failedGraceMs: seconds(values["failed-grace"], "failed-grace", 30),
	};
}

export async function appCommand(argv: string[], io: AppIo = consoleIo): Promise<number> {
	let settings: Settings;
	try {
		const parsed = parse(argv);
		if (parsed === "help") {
			io.out(appUsage);
			return 0;
		}
		settings = parsed;
	} catch (error) {
		io.err(`rainmaker-ota-xs app: ${(error as Error).message}`);
		if (error instanceof SetupError) return 1;
		io.err(appUsage);
		return 2;
	}
	// Ctrl-C ends watch/approve cleanly; the caller's signal does the same in tests.
	const stop = new AbortController();
	const onSigint = () => stop.abort();
	process.once("SIGINT", onSigint);
	io.signal?.addEventListener("abort", onSigint);
	if (io.signal?.aborted) stop.abort();
	try {
		switch (settings.command) {
			case "login":
				return await login(settings, io);
			case "logout":
				return await logout(settings, io);
			case "nodes":
				return await nodes(settings, io);
			case "show":
				return await show(settings, io);
			case "check":
				return await check(settings, io);
			case "watch":
				return await watch(settings, io, stop.signal);
			default:
				return await approve(settings, io, stop.signal);
		}
	} catch (error) {
		if (error instanceof RainMakerApiError && error.httpStatus === 0) {
			// The cloud does not answer at all: bad input (docs/host-tools.md, "Bad input"), one line, exit 2.
			io.err(
				`rainmaker-ota-xs app ${settings.command}: ${error.description}: start the cloud (rainmaker-ota-xs cloud) or pass its REST address with --base-url`,
			);
			return 2;
		}
		io.err(`rainmaker-ota-xs app ${settings.command}: ${(error as Error).message}`);
		return 1;
	} finally {
		process.off("SIGINT", onSigint);
		io.signal?.removeEventListener("abort", onSigint);
	}
}

async function login(settings: Settings, io: AppIo): Promise<number> {
	const answer = await settings.api.login(settings.userName!, settings.password!);
	settings.state.saveSession(sessionFrom(settings.api.baseUrl, settings.userName!, answer));
	const exp = jwtClaims(answer.accesstoken)?.exp;
	io.out(
		`logged in to ${settings.api.baseUrl} as ${settings.userName}` +
			`${typeof exp === "number" ? ` (access token valid until ${new Date(exp * 1000).toISOString()}, then renewed)` : ""}; session kept in ${settings.state.path}`,
	);
	return 0;
}

async function logout(settings: Settings, io: AppIo): Promise<number> {
	if (!settings.state.session()) {
		io.out("not logged in");
		return 0;
	}
	try {
		await settings.api.logout();
	} finally {
		settings.state.clearSession();
	}
	io.out(`logged out of ${settings.api.baseUrl}`);
	return 0;
}

async function nodes(settings: Settings, io: AppIo): Promise<number> {
	const listed = await settings.api.listNodes();
	if (listed.length === 0) io.out("no nodes");
	for (const node of listed) {
		const status = node.status as {connectivity?: {connected?: boolean}} | undefined;
		const config = node.config as {info?: {fw_version?: string}} | undefined;
		const names = otaServiceNames(node.config as JsonObject | undefined);
		const offer = readOffer((node.params ?? {}) as JsonObject, names);
		io.out(
			`${String(node.node_id)} ${status?.connectivity?.connected ? "online" : "offline"} fw ${config?.info?.fw_version ?? "?"}` +
				` ${names.service}.${names.info}: ${infoText(offer.info)}`,
		);
	}
	return 0;
}

function time(clock: Clock): string {
	return new Date(clock.now()).toISOString().slice(11, 19);
}

function infoText(info: unknown): string {
	return info === undefined ? "(none reported)" : JSON.stringify(info);
}

/** The job to look at: the one offered in Info, else the one remembered from an approval. */
function jobOf(settings: Settings, offeredJobId: string | undefined): {jobId: string; remembered: boolean} | undefined {
	if (offeredJobId) return {jobId: offeredJobId, remembered: false};
	const remembered = settings.state.get(settings.nodeId);
	return remembered ? {jobId: remembered.jobId, remembered: true} : undefined;
}

async function statusOrNote(settings: Settings, jobId: string): Promise<OtaStatusResponse | string> {
	try {
		return await settings.api.getOtaStatus(settings.nodeId, jobId);
	} catch (error) {
		if (
			error instanceof RainMakerApiError &&
			error.httpStatus !== 401 &&
			error.httpStatus !== 403 &&
			error.httpStatus !== 0
		)
			return `no status: ${error.description}`;
		throw error;
	}
}

async function show(settings: Settings, io: AppIo): Promise<number> {
	const names = await fetchOtaServiceNames(settings.api, settings.nodeId);
	const offer = readOffer(await settings.api.getParams(settings.nodeId), names);
	io.out(`node ${settings.nodeId} ${names.service}.${names.info}: ${infoText(offer.info)}`);
	const job = jobOf(settings, offer.jobId);
	if (!job) {
		io.out("no update offered and no approved job remembered");
		return 0;
	}
	const status = await statusOrNote(settings, job.jobId);
	io.out(
		`job ${job.jobId}${job.remembered ? " (remembered)" : ""}: ${typeof status === "string" ? status : formatStatus(status, job.remembered)}`,
	);
	return 0;
}

async function check(settings: Settings, io: AppIo): Promise<number> {
	const names = await fetchOtaServiceNames(settings.api, settings.nodeId);
	await sendOperation(settings.api, settings.nodeId, names, "check");
	io.out(`asked node ${settings.nodeId} to check for an update (${names.service}.${names.operation} = "check")`);
	return 0;
}

async function watch(settings: Settings, io: AppIo, signal: AbortSignal): Promise<number> {
	const clock = io.clock ?? realClock;
	const names = await fetchOtaServiceNames(settings.api, settings.nodeId);
	const start = clock.now();
	let lastInfo: string | undefined;
	let lastStatus = "";
	let jobId: string | undefined;
	let failedSince: number | undefined;
	for (;;) {
		if (signal.aborted) return 130;
		const offer = readOffer(await settings.api.getParams(settings.nodeId), names);
		const info = infoText(offer.info);
		if (info !== lastInfo) {
			lastInfo = info;
			io.out(`${time(clock)} ${names.service}.${names.info}: ${info}`);
		}
		// Keep following the job once seen: Info is cleared when the update starts.
		const job = jobOf(settings, offer.jobId);
		if (job && job.jobId !== jobId) {
			jobId = job.jobId;
			lastStatus = "";
			failedSince = undefined;
		}
		if (jobId) {
			const status = await statusOrNote(settings, jobId);
			const line = `job ${jobId} ${typeof status === "string" ? status : formatStatus(status, false)}`;
			const key = typeof status === "string" ? line : `${line}@${status.timestamp}`;
			if (key !== lastStatus) {
				lastStatus = key;
				failedSince = typeof status !== "string" && status.status === "failed" ? clock.now() : undefined;
				io.out(`${time(clock)} ${line}`);
			}
			if (typeof status !== "string") {
				if (status.status === "success") return 0;
				if (status.status === "rejected") return 1;
				if (failedSince !== undefined && clock.now() - failedSince >= settings.failedGraceMs) return 1;
			}
		}
		if (clock.now() - start >= settings.timeoutMs) {
			io.out(`${time(clock)} no final state within ${settings.timeoutMs / 1000} s`);
			return 1;
		}
		await clock.sleep(settings.pollIntervalMs);
	}
}

async function approve(settings: Settings, io: AppIo, signal: AbortSignal): Promise<number> {
	const clock = io.clock ?? realClock;
	const names = await fetchOtaServiceNames(settings.api, settings.nodeId);
	const offer = readOffer(await settings.api.getParams(settings.nodeId), names);
	if (!offer.jobId) {
		io.err(
			`node ${settings.nodeId} offers no update (${names.service}.${names.info} is ${infoText(offer.info)}); run "check" first and wait for the offer`,
		);
		return 1;
	}
	if (settings.jobId !== undefined && offer.jobId !== settings.jobId) {
		io.err(
			`node ${settings.nodeId} now offers job ${offer.jobId}${offer.fwVersion ? ` (firmware ${offer.fwVersion})` : ""}, not ${settings.jobId}; look at it with "show" and approve again`,
		);
		return 1;
	}
	// Info once more just before the write: a start answers exactly the offer this command announced.
	// (The node refuses a start that comes right after its offer was replaced; docs/ota-lifecycle.md.)
	const again = readOffer(await settings.api.getParams(settings.nodeId), names);
	if (again.jobId !== offer.jobId || again.fwVersion !== offer.fwVersion) {
		io.err(
			`node ${settings.nodeId}: the offer changed while approving (job ${offer.jobId} → ${again.jobId ?? "none"}); look at it with "show" and approve again`,
		);
		return 1;
	}
	// Remember the job before approving: once the update starts, Info no longer shows it.
	settings.state.remember(settings.nodeId, {
		jobId: offer.jobId,
		...(offer.fwVersion ? {fwVersion: offer.fwVersion} : {}),
		approvedAt: new Date(clock.now()).toISOString(),
	});
	await sendOperation(settings.api, settings.nodeId, names, "start");
	io.out(
		`${time(clock)} approved job ${offer.jobId}${offer.fwVersion ? ` (firmware ${offer.fwVersion})` : ""} on node ${settings.nodeId}`,
	);
	const outcome: FollowOutcome = await followOtaJob(settings.api, settings.nodeId, offer.jobId, {
		pollIntervalMs: settings.pollIntervalMs,
		timeoutMs: settings.timeoutMs,
		failedGraceMs: settings.failedGraceMs,
		clock,
		signal,
		onStatus: (status, reoffered) => io.out(`${time(clock)} ${formatStatus(status, true, reoffered)}`),
		onPollError: error => io.out(`${time(clock)} (status not available: ${error.description})`),
	});
	switch (outcome) {
		case "success":
			io.out(
				`${time(clock)} update of node ${settings.nodeId} to ${offer.fwVersion ?? "the new firmware"} succeeded`,
			);
			return 0;
		case "rejected":
			io.out(`${time(clock)} the node rejected the update`);
			return 1;
		case "failed":
			io.out(`${time(clock)} the update failed (no newer status within ${settings.failedGraceMs / 1000} s)`);
			return 1;
		case "timeout":
			io.out(`${time(clock)} no final state within ${settings.timeoutMs / 1000} s`);
			return 1;
		case "stopped":
			io.out(`${time(clock)} stopped; the job id ${offer.jobId} is remembered for "show" and "watch"`);
			return 130;
		case "needs-approval":
			io.out(
				`${time(clock)} the node lost the approval (a restart or power cut, or it lapsed) and offers the update again: approve it again`,
			);
			return 1;
	}
}
