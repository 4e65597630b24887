/**
 * Builds `SET a = :a, ... REMOVE b` for a partial update, plus the bookkeeping every versioned
 * entity shares: updatedAt, and version incremented under the optimistic-concurrency condition.
 */
export function versionedUpdate(
  patch: Record<string, unknown>,
  expectedVersion: number,
  extraSet: Record<string, unknown> = {},
  now = new Date().toISOString(),
) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':expected': expectedVersion, ':one': 1, ':now': now };
  const set: string[] = ['#updatedAt = :now', '#version = #version + :one'];
  const remove: string[] = [];
  names['#updatedAt'] = 'updatedAt';
  names['#version'] = 'version';
  let i = 0;
  for (const [field, value] of Object.entries({ ...patch, ...extraSet })) {
    if (value === undefined) continue;
    const name = `#f${i}`;
    names[name] = field;
    if (value === null) {
      remove.push(name);
    } else {
      values[`:v${i}`] = value;
      set.push(`${name} = :v${i}`);
    }
    i++;
  }
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
