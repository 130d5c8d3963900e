/* Reading an app image back from an OTA slot: platform neutral, in idf/slot-image.ts. */
export * from "../../idf/slot-image";
