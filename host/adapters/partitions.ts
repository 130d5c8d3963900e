/*
 * The partition table on the host: idf/partitions.ts parses it; this reads the CSV from a file
 * (by default the project's partitions.csv).
 */
import {readFileSync} from "node:fs";
import {parsePartitionTable, type PartitionTable} from "../../idf/partitions";

export * from "../../idf/partitions";

/** The project's table (repository root). */
export const DEFAULT_PARTITIONS_FILE = new URL("../../partitions.csv", import.meta.url);

export function readPartitionTable(path: string | URL = DEFAULT_PARTITIONS_FILE, flashSize?: number): PartitionTable {
	return parsePartitionTable(readFileSync(path, "utf8"), flashSize);
}
