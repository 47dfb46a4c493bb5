// What the profiles of the last bench run showed (perf on the addon, V8's
// CPU profile on the JavaScript): kept beside the numbers in RESULTS.md.
export const NOTES = [
  '- (to be filled from the profiles of this run)',
];
