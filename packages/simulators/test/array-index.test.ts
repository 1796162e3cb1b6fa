import { ArrayIndex } from '../src/common/array-index.js';

interface Row {
  id: string;
  owner: string;
}

test('finds what is appended after the index was built, and follows an array that was replaced', () => {
  const index = new ArrayIndex<Row, string>((r) => [r.id, `owner:${r.owner}`]);
  let rows: Row[] = [
    { id: 'a', owner: 'x' },
    { id: 'b', owner: 'y' },
  ];
  expect(index.first(rows, 'b')).toEqual({ id: 'b', owner: 'y' });
  expect(index.first(rows, 'c')).toBeUndefined();
  rows.push({ id: 'c', owner: 'x' });
  expect(index.first(rows, 'c')).toEqual({ id: 'c', owner: 'x' });
  expect(index.all(rows, 'owner:x').map((r) => r.id)).toEqual(['a', 'c']);
  // Removal is by a filtered copy, as the simulators do it.
  rows = rows.filter((r) => r.id !== 'a');
  expect(index.first(rows, 'a')).toBeUndefined();
  expect(index.all(rows, 'owner:x').map((r) => r.id)).toEqual(['c']);
  // A state loaded anew (another array of the same length) is indexed afresh too.
  rows = [
    { id: 'd', owner: 'z' },
    { id: 'e', owner: 'z' },
  ];
  expect(index.first(rows, 'b')).toBeUndefined();
  expect(index.all(rows, 'owner:z').map((r) => r.id)).toEqual(['d', 'e']);
});
