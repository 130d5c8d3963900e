/*
 * The login session (`app login`) and the job ids the client approved, per node, in a small JSON
 * file (default ~/.rainmaker-ota-xs/app-state.json, written with mode 0600: it holds tokens).
 * The app has to keep the job id itself (FAQ step 3): the node clears Info when the update starts and reboots, so afterwards only the remembered id lets the
 * client ask `user/nodes/ota_status`.
 */
import {mkdirSync, readFileSync, renameSync, writeFileSync} from "node:fs";
import {homedir} from "node:os";
import {dirname, join} from "node:path";

export interface RememberedJob {
	jobId: string;
	fwVersion?: string;
	/** ISO time of the approval. */
	approvedAt: string;
}

/** The tokens of a login (session.ts). */
export interface StoredSession {
	/** The REST base URL the tokens belong to. */
	baseUrl: string;
	userName: string;
	idToken: string;
	accessToken: string;
	refreshToken: string;
}

interface StateFileContent {
	nodes: Record<string, RememberedJob>;
	session?: StoredSession;
}

export function defaultStatePath(): string {
	return join(homedir(), ".rainmaker-ota-xs", "app-state.json");
}

export class AppState {
	constructor(readonly path: string = defaultStatePath()) {}

	/** The remembered job of a node. Throws a clear error for a damaged file (it is left as it is). */
	get(nodeId: string): RememberedJob | undefined {
		return this.#read().nodes[nodeId];
	}

	remember(nodeId: string, job: RememberedJob): void {
		const content = this.#read();
		content.nodes[nodeId] = job;
		this.#write(content);
	}

	session(): StoredSession | undefined {
		return this.#read().session;
	}

	saveSession(session: StoredSession): void {
		this.#write({...this.#read(), session});
	}

	clearSession(): void {
		const {nodes} = this.#read();
		this.#write({nodes});
	}

	#write(content: StateFileContent): void {
		mkdirSync(dirname(this.path), {recursive: true});
		// Write then rename, so an interrupted write never leaves half a file.
		const temporary = `${this.path}.${process.pid}.tmp`;
		writeFileSync(temporary, `${JSON.stringify(content, null, "\t")}\n`, {mode: 0o600});
		renameSync(temporary, this.path);
	}

	#read(): StateFileContent {
		let text: string;
		try {
			text = readFileSync(this.path, "utf8");
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === "ENOENT") return {nodes: {}};
			throw new Error(`cannot read the state file ${this.path}: ${(error as Error).message}`, {cause: error});
		}
		let value: unknown;
		try {
			value = JSON.parse(text);
		} catch {
			throw new Error(`the state file ${this.path} is not valid JSON; fix or delete it`);
		}
		const nodes = (value as {nodes?: unknown})?.nodes;
		if (typeof nodes !== "object" || nodes === null || Array.isArray(nodes))
			throw new Error(`the state file ${this.path} has no "nodes" object; fix or delete it`);
		const valid: Record<string, RememberedJob> = {};
		for (const [nodeId, job] of Object.entries(nodes as Record<string, unknown>)) {
			const entry = job as Partial<RememberedJob> | null;
			if (entry && typeof entry.jobId === "string")
				valid[nodeId] = {
					jobId: entry.jobId,
					approvedAt: String(entry.approvedAt ?? ""),
					...(typeof entry.fwVersion === "string" ? {fwVersion: entry.fwVersion} : {}),
				};
		}
		const session = (value as {session?: Partial<StoredSession>}).session;
		const strings = ["baseUrl", "userName", "idToken", "accessToken", "refreshToken"] as const;
		if (session && strings.every(key => typeof session[key] === "string"))
			return {nodes: valid, session: session as StoredSession};
		return {nodes: valid};
	}
}
