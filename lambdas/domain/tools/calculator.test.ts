import { ValidationError } from '../shared/errors';
import { evaluateArithmetic } from './calculator';

describe('evaluateArithmetic', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['12*(3+4)', 84],
    ['2 ^ 3 ^ 2', 512],
    ['-4 + 10 / 4', -1.5],
    ['17 % 5', 2],
    ['1.5e3 / 3', 500],
    ['-(2 + 3)', -5],
  ])('%s = %d', (expression, expected) => {
    expect(evaluateArithmetic(expression)).toBe(expected);
  });

  it.each(['1 +', '(1 + 2', '2 / 0', 'process.exit()', '1 2', ''])('refuses %j', (expression) => {
    expect(() => evaluateArithmetic(expression)).toThrow(ValidationError);
  });
});
