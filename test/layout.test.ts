import { describe, expect, it } from 'vitest';
import { folderCycles, longFiles, longFunctions } from '../scripts/check-layout.ts';

describe('the layout', () => {
  it('has no two sibling folders under src/ importing each other', () => {
    expect(folderCycles()).toEqual([]);
  });

  it('has no source file over 400 lines and no function over 120 lines', () => {
    expect([...longFiles(), ...longFunctions()]).toEqual([]);
  });
});
