import { ValidationError } from '../shared/errors';

/**
 * Evaluates arithmetic (+ − × ÷ %, ^, parentheses, unary minus, decimals) without `eval`.
 * Hand-written because a general math library would add hundreds of KB to every cold start
 * for five operators.
 */
export function evaluateArithmetic(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[-+*/%^()]|\S/gi) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const fail = (why: string): never => {
    throw ValidationError.forField('input.expression', why);
  };

  function primary(): number {
    const token = next();
    if (token === undefined) return fail('ends too early');
    if (token === '(') {
      const value = sum();
      if (next() !== ')') fail('has an unclosed parenthesis');
      return value;
    }
    if (token === '-') return -power();
    if (token === '+') return power();
    const value = Number(token);
    if (!Number.isFinite(value)) fail(`has an unexpected "${token}"`);
    return value;
  }
  function power(): number {
    const base = primary();
    if (peek() === '^') {
      next();
      return base ** power();
    }
    return base;
  }
  function product(): number {
    let value = power();
    for (let op = peek(); op === '*' || op === '/' || op === '%'; op = peek()) {
      next();
      const right = power();
      if ((op === '/' || op === '%') && right === 0) fail('divides by zero');
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  }
  function sum(): number {
    let value = product();
    for (let op = peek(); op === '+' || op === '-'; op = peek()) {
      next();
      value = op === '+' ? value + product() : value - product();
    }
    return value;
  }

  const result = sum();
  if (position < tokens.length) fail(`has an unexpected "${tokens[position]}"`);
  if (!Number.isFinite(result)) fail('has no finite result');
  return result;
}
