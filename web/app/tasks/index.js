/** The task board: list, detail and the coordinator's new-task form. */
import detail from './detail.js';
import list from './list.js';
import newTask from './new.js';

export default {
  section: 'tasks',
  home: '/tasks',
  routes: [
    ['/tasks', list],
    ['/tasks/new', newTask],
    ['/tasks/:id', detail],
  ],
};
