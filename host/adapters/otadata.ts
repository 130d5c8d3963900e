/* ESP-IDF's otadata: platform neutral, in idf/otadata.ts (the lin build runs the same code). */
export * from "../../idf/otadata";
