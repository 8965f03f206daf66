/**
 * The local plane's defaults that commands read without starting it: a module of its own so that
 * reading one does not load the plane (dynalite, the ASL interpreter, every handler).
 */

/** Where `cortex local` keeps its state, and where other commands look for it, unless told. */
export const DEFAULT_DATA_DIR = './.data';
