import type { Command, Option } from 'commander';

/**
 * Shell completion for bash and zsh, generated from the commander program itself, so a command or
 * option added to cli.ts is completed without touching this file. Both scripts share one plan: walk
 * the words typed so far to find the command path (`silence add`), skipping the value after an
 * option that takes one; then complete that option's choices, a file name, the command's options
 * (after `-`) or its subcommands.
 */

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CompletedOption {
  flags: string[];
  description: string;
  /** Takes a value (the next word). */
  takesValue: boolean;
  /** The value's allowed words, or 'file' for a path. */
  values: string[] | 'file' | undefined;
}

interface CompletedCommand {
  /** Space-separated path below the program: '' for the program, `silence add`. */
  path: string;
  description: string;
  options: CompletedOption[];
  subcommands: Array<{ name: string; description: string }>;
  /** Allowed words of its first argument (`completion bash|zsh`), if it has a fixed set. */
  argumentChoices: string[];
}

/** Options whose value is a path: completed with file names. */
const FILE_VALUE = /<(file|dir)>/;

function describeOption(option: Option): CompletedOption {
  const flags = [option.short, option.long].filter((flag): flag is string => typeof flag === 'string');
  const takesValue = option.required || option.optional;
  const values = option.argChoices ? [...option.argChoices] : FILE_VALUE.test(option.flags) ? 'file' : undefined;
  return { flags, description: option.description, takesValue, values };
}

const HELP_OPTION: CompletedOption = { flags: ['-h', '--help'], description: 'display help for command', takesValue: false, values: undefined };

function collect(command: Command, path: string, out: CompletedCommand[]): void {
  const visible = command.commands.filter((sub) => !(sub as Command & { _hidden?: boolean })._hidden);
  out.push({
    path,
    description: command.description(),
    options: [...command.options.filter((option) => !option.hidden).map(describeOption), HELP_OPTION],
    subcommands: visible.map((sub) => ({ name: sub.name(), description: sub.description() })),
    argumentChoices: [...(command.registeredArguments[0]?.argChoices ?? [])],
  });
  for (const sub of visible) collect(sub, path === '' ? sub.name() : `${path} ${sub.name()}`, out);
}

/** Single-quoted for both shells. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `a|b|c` patterns of a case branch, each quoted. */
function pattern(words: string[]): string {
  return words.map(quote).join('|');
}

/**
 * The shared walk, valid in bash and zsh: sets `cmd_path` to the command path of the words before
 * the cursor. The caller defines `w_count` and the function named `wordAt` (word N, 0 = the program
 * name) in its dialect, since bash counts COMP_WORDS from 0 and zsh counts `words` from 1.
 */
function walk(commands: CompletedCommand[], globalOptions: CompletedOption[], wordAt: string): string {
  const valueBranches: string[] = [];
  const subBranches: string[] = [];
  for (const command of commands) {
    const valued = [...command.options, ...(command.path === '' ? [] : globalOptions)].filter((option) => option.takesValue).flatMap((option) => option.flags);
    if (valued.length > 0) valueBranches.push(`      ${quote(command.path)}) case "$w" in ${pattern(valued)}) skip=1 ;; esac ;;`);
    if (command.subcommands.length > 0) {
      subBranches.push(`      ${quote(command.path)}) case "$w" in ${pattern(command.subcommands.map((sub) => sub.name))}) cmd_path="\${cmd_path:+$cmd_path }$w" ;; esac ;;`);
    }
  }
  return [
    '  local cmd_path="" skip=0 i w',
    '  for (( i = 1; i < w_count; i++ )); do',
    `    w="$(${wordAt} "$i")"`,
    // An option's value never starts with a dash: after `--retry` (optional ids), `--json` is an option.
    '    if (( skip )); then skip=0; case "$w" in -*) ;; *) continue ;; esac; fi',
    '    case "$cmd_path" in',
    ...valueBranches,
    '    esac',
    '    (( skip )) && continue',
    '    case "$w" in -*) continue ;; esac',
    '    case "$cmd_path" in',
    ...subBranches,
    '    esac',
    '  done',
  ].join('\n');
}

function programModel(program: Command): { commands: CompletedCommand[]; globalOptions: CompletedOption[] } {
  const commands: CompletedCommand[] = [];
  collect(program, '', commands);
  // Options of the program (--config) are accepted after a subcommand too.
  const globalOptions = commands[0]!.options.filter((option) => option.flags.some((flag) => flag === '--config' || flag === '-c'));
  return { commands, globalOptions };
}

/** The values to offer after `prev`, per command path: a case statement in either shell. */
function valueCases(commands: CompletedCommand[], globalOptions: CompletedOption[], emit: (values: string[] | 'file') => string): string {
  const branches: string[] = [];
  for (const command of commands) {
    for (const option of [...command.options, ...(command.path === '' ? [] : globalOptions)]) {
      if (!option.takesValue) continue;
      const action = option.values === undefined ? 'return 0' : `${emit(option.values)}; return 0`;
      branches.push(`    ${quote(command.path)}:${option.flags.map((flag) => quote(flag)).join(`|${quote(command.path)}:`)}) ${action} ;;`);
    }
  }
  return ['  case "$cmd_path:$prev" in', ...branches, '  esac'].join('\n');
}

/** A bash completion script for the program: `source <(gem-watch completion bash)`. */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  const { commands, globalOptions } = programModel(program);
  const words = (list: string[]) => quote(list.join(' '));
  const optionBranches = commands.map(
    (command) => `    ${quote(command.path)}) COMPREPLY=($(compgen -W ${words([...command.options, ...(command.path === '' ? [] : globalOptions)].flatMap((option) => option.flags))} -- "$cur")) ;;`,
  );
  const wordBranches = commands
    .filter((command) => command.subcommands.length > 0 || command.argumentChoices.length > 0)
    .map((command) => `    ${quote(command.path)}) COMPREPLY=($(compgen -W ${words([...command.subcommands.map((sub) => sub.name), ...command.argumentChoices])} -- "$cur")) ;;`);
  return `# bash completion for ${name}. Load it in ~/.bashrc with:
#   source <(${name} completion bash)
# or save it as /etc/bash_completion.d/${name}.
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local w_count=$COMP_CWORD
  ${fn}_word_at() { printf '%s' "\${COMP_WORDS[$1]}"; }
${walk(commands, globalOptions, `${fn}_word_at`)}
  COMPREPLY=()
${valueCases(commands, globalOptions, (values) => (values === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : `COMPREPLY=($(compgen -W ${words(values)} -- "$cur"))`))}
  if [[ "$cur" == -* ]]; then
    case "$cmd_path" in
${optionBranches.join('\n')}
    esac
    return 0
  fi
  case "$cmd_path" in
${wordBranches.join('\n')}
  esac
  return 0
}
complete -o default -F ${fn} ${name}
`;
}

/** A zsh completion script for the program: `source <(gem-watch completion zsh)`, or as `_gem-watch` on $fpath. */
export function zshCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const { commands, globalOptions } = programModel(program);
  // _describe takes "word:description"; a colon inside the word is escaped.
  const described = (items: Array<{ word: string; description: string }>) =>
    items.map((item) => quote(`${item.word.replace(/:/g, '\\:')}:${item.description.replace(/\s+/g, ' ')}`)).join(' ');
  const optionBranches = commands.map((command) => {
    const items = [...command.options, ...(command.path === '' ? [] : globalOptions)].flatMap((option) => option.flags.map((flag) => ({ word: flag, description: option.description })));
    return `    ${quote(command.path)}) items=(${described(items)}); _describe -t options 'option' items ;;`;
  });
  const wordBranches = commands
    .filter((command) => command.subcommands.length > 0 || command.argumentChoices.length > 0)
    .map((command) => {
      const items = [...command.subcommands.map((sub) => ({ word: sub.name, description: sub.description })), ...command.argumentChoices.map((choice) => ({ word: choice, description: choice }))];
      return `    ${quote(command.path)}) items=(${described(items)}); _describe -t commands 'command' items ;;`;
    });
  return `#compdef ${name}
# zsh completion for ${name}. Load it in ~/.zshrc (after compinit) with:
#   source <(${name} completion zsh)
# or save it as _${name} in a directory on $fpath.
${fn}() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  local w_count=$(( CURRENT - 1 ))
  local -a items
  ${fn}_word_at() { printf '%s' "\${words[$(( $1 + 1 ))]}"; }
${walk(commands, globalOptions, `${fn}_word_at`)}
${valueCases(commands, globalOptions, (values) => (values === 'file' ? '_files' : `compadd -- ${values.map(quote).join(' ')}`))}
  if [[ "$cur" == -* ]]; then
    case "$cmd_path" in
${optionBranches.join('\n')}
    esac
    return 0
  fi
  case "$cmd_path" in
${wordBranches.join('\n')}
  esac
  return 0
}
if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

/** The script for a shell. */
export function completionScript(program: Command, shell: CompletionShell): string {
  return shell === 'bash' ? bashCompletion(program) : zshCompletion(program);
}
