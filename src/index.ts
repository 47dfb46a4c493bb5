export { Table, type Chain, type TableOptions, type CommitOptions } from './table.js';
export { Netns, type NetnsOption } from './netns.js';
export { IptcError, isIptcError, type IptcErrorCode, type IptcErrorDetails } from './errors.js';
export type { Rule, RuleInput, Match, MatchInput, Target, TargetInput, Option, OptionsInput, OptionValue, Counters, Inversions, Verdict } from './rule.js';
export type { FamilyName } from './native.js';
export { TABLES, type TableName } from './names.js';
