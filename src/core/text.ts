/** "1 gene", "2,000 genes": a count with its word, in the form that agrees with it. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
